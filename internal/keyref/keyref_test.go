package keyref

import (
	"errors"
	"strings"
	"testing"
)

func TestHideKeepsTheErrorAndDropsTheKey(t *testing.T) {
	base := errors.New("sentinel")
	key := "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	err := Hide(key, errors.Join(base, errors.New("duplicate key "+key)))
	if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), Of(key)) {
		t.Fatalf("text %q", err)
	}
	if !errors.Is(err, base) {
		t.Fatal("the sentinel is lost")
	}
	if Hide(key, nil) != nil || Hide(key, base) != base {
		t.Fatal("Hide changed an error without the key")
	}
}
