// Package reliability holds the fault and load tests of sessionkit, run
// against every store on real servers: TestFaultRecovery stops a database
// server in the middle of concurrent traffic and starts it again;
// TestNoLostUpdatesUnderLoad counts lost updates under concurrent
// read-modify-write traffic, and shows with a last-writer-wins save that the
// count can see losses. The package has no API; see README.md.
package reliability
