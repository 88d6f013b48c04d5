package storetest_test

import (
	"testing"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/memstore"
	"github.com/sessionkit/session/storetest"
)

func TestLifecycleOnMemstore(t *testing.T) {
	st := memstore.New()
	storetest.RunLifecycle(t, func(t *testing.T) *session.Manager {
		m := session.New(st)
		m.Cookie.Insecure = true
		return m
	})
}
