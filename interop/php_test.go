package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// phpStep is one request of the PHP application (see php/run.php).
type phpStep struct {
	Op     string         `json:"op"`
	Now    int64          `json:"now"`
	ID     string         `json:"id,omitempty"`
	Values map[string]any `json:"values,omitempty"`
}

// phpResult is what php/run.php answers for one step.
type phpResult struct {
	Op      string `json:"op"`
	ID      string `json:"id"`
	Found   bool   `json:"found"`
	Session string `json:"session"`
	Deleted int    `json:"deleted"`
}

// phpBinary returns the PHP interpreter, or skips the test.
func phpBinary(t *testing.T) string {
	t.Helper()
	php := os.Getenv("SESSION_TEST_PHP")
	if php == "" {
		t.Skip("SESSION_TEST_PHP not set (path of php-cli with pdo_mysql, pdo_sqlite, mongodb)")
	}
	return php
}

// php runs one PHP process playing steps against the backend described by
// conn (see php/run.php) and returns its answers, one per step. Each launch
// takes a fraction of a second; the scenario uses three per backend.
func (sc *scenario) php(steps ...phpStep) []phpResult {
	t := sc.t
	t.Helper()
	in := map[string]any{"maxlifetime": int(maxLifetime / time.Second), "steps": steps}
	for k, v := range sc.b.phpConn() {
		in[k] = v
	}
	input, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sc.phpBin, filepath.Join("php", "run.php"))
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("php run.php: %v\nstderr: %s\nstdout: %s", err, stderr.Bytes(), stdout.Bytes())
	}
	var out []phpResult
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("php run.php answered %q: %v (stderr %q)", stdout.Bytes(), err, stderr.Bytes())
	}
	if len(out) != len(steps) {
		t.Fatalf("php run.php answered %d results for %d steps", len(out), len(steps))
	}
	sc.phpLaunches++
	return out
}
