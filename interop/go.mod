module github.com/sessionkit/session/interop

go 1.26.0

require (
	github.com/go-sql-driver/mysql v1.10.1
	github.com/sessionkit/session v0.1.0
	github.com/sessionkit/session/mongostore v0.1.0
	github.com/sessionkit/session/sqlstore v0.1.0
	go.mongodb.org/mongo-driver/v2 v2.10.0
	modernc.org/sqlite v1.62.0
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/xdg-go/scram v1.4.0 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.80.1 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

// Local development: build the sessionkit modules from this checkout.
// Users of a tagged release ignore these lines (scripts/consumer.sh).
replace (
	github.com/sessionkit/session => ../
	github.com/sessionkit/session/mongostore => ../mongostore
	github.com/sessionkit/session/sqlstore => ../sqlstore
)
