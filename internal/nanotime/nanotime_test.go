package nanotime

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		in, want time.Time
	}{
		{time.Time{}, time.Time{}},
		{now, time.Unix(0, now.UnixNano())},
		{time.Unix(0, 0), time.Unix(0, 1)},
		{time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), minNano},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), maxNano},
	} {
		if got := Decode(Encode(tc.in)); !got.Equal(tc.want) {
			t.Errorf("Decode(Encode(%v)) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
