package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, memstore.New(), storetest.Config{})
}

func TestJanitorCollects(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	if _, err := s.Save(ctx, "k", session.Record{Data: []byte("x"), Expiry: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, "live", session.Record{Data: []byte("y"), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	stop := s.StartJanitor(time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for s.Len() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("janitor did not collect: %d records", s.Len())
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	stop()
	if _, err := s.Load(ctx, "live"); err != nil {
		t.Fatalf("janitor removed a live record: %v", err)
	}
}
