// Package bench compares sessionkit with its peers, github.com/alexedwards/scs/v2
// and github.com/gorilla/sessions, on the same servers in the same run.
//
// Everything is in the test files: BenchmarkSessions (workloads × backends ×
// libraries) and TestLostUpdates. The report command, ./cmd/report, runs
// both and writes BENCHMARKS.md and the charts. See README.md.
package bench
