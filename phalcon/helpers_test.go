package phalcon_test

import "time"

func now() time.Time { return time.Now() }

func farFuture() time.Time { return time.Now().Add(time.Hour) }
