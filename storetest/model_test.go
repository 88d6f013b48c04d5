package storetest_test

import (
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

func TestModelOnMemstore(t *testing.T) {
	st := memstore.New()
	storetest.RunModel(t, func(t *testing.T) *session.Manager {
		m := session.New(st)
		m.Cookie.Insecure = true
		return m
	}, storetest.ModelConfig{Managers: 3})
}

func TestModelOnMemstoreRawIDs(t *testing.T) {
	st := memstore.New()
	storetest.RunModel(t, func(t *testing.T) *session.Manager {
		m := session.New(st)
		m.Cookie.Insecure = true
		m.RawIDs = true
		return m
	}, storetest.ModelConfig{})
}

func TestModelOnFilestore(t *testing.T) {
	st, err := filestore.New(filestore.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	storetest.RunModel(t, func(t *testing.T) *session.Manager {
		m := session.New(st)
		m.Cookie.Insecure = true
		return m
	}, storetest.ModelConfig{})
}
