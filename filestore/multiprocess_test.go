package filestore_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/session"
	"github.com/sessionkit/session/filestore"
)

const (
	helperEnvDir = "FILESTORE_TEST_HELPER_DIR"
	helperEnvN   = "FILESTORE_TEST_HELPER_N"
	counterKey   = "counter"
)

// increment adds one to the counter record with a compare-and-set, retrying
// on conflict, and returns how many conflicts it met.
func increment(ctx context.Context, s *filestore.Store) (int, error) {
	for conflicts := 0; ; conflicts++ {
		rec, err := s.Load(ctx, counterKey)
		if err != nil {
			return conflicts, err
		}
		n := binary.BigEndian.Uint64(rec.Data)
		rec.Data = binary.BigEndian.AppendUint64(nil, n+1)
		rec.Expiry = time.Now().Add(time.Hour)
		if _, err = s.Save(ctx, counterKey, rec); err == nil {
			return conflicts, nil
		}
		if !errors.Is(err, session.ErrConflict) {
			return conflicts, err
		}
	}
}

// TestHelperProcess is not a test: it is the body of the child processes
// started by TestMultiProcessCAS (it does nothing when run normally).
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnvDir)
	if dir == "" {
		t.Skip("helper process for TestMultiProcessCAS")
	}
	n, _ := strconv.Atoi(os.Getenv(helperEnvN))
	s, err := filestore.New(filestore.Options{Dir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	// Wait for the parent's go-ahead so that every process runs at once.
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	total := 0
	for range n {
		c, err := increment(context.Background(), s)
		total += c
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
	}
	fmt.Println("conflicts", total)
	os.Exit(0)
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// TestMultiProcessCAS runs compare-and-set increments on one record from
// two child processes and from goroutines of this process at the same time;
// the counter must come out exact.
func TestMultiProcessCAS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	s := newStore(t, filestore.Options{Dir: dir})
	ctx := context.Background()
	if _, err := s.Save(ctx, counterKey, session.Record{Data: make([]byte, 8), Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const (
		children   = 2
		perChild   = 150
		goroutines = 2
		perRoutine = 75
	)
	var kids []*child
	for range children {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnvDir+"="+dir, helperEnvN+"="+strconv.Itoa(perChild))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		k := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
		if line, err := k.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child: %q, %v", line, err)
		}
		kids = append(kids, k)
	}
	for _, k := range kids {
		if _, err := io.WriteString(k.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		conflicts int
		errs      []error
	)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perRoutine {
				c, err := increment(ctx, s)
				mu.Lock()
				conflicts += c
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, k := range kids {
		rest, _ := io.ReadAll(k.out)
		if err := k.cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v; output %q", i, err, rest)
		}
		c, ok := strings.CutPrefix(strings.TrimSpace(string(rest)), "conflicts ")
		n, err := strconv.Atoi(c)
		if !ok || err != nil {
			t.Fatalf("child %d output %q", i, rest)
		}
		t.Logf("child %d: %d increments, %d conflicts retried", i, perChild, n)
	}
	t.Logf("parent: %d increments, %d conflicts retried", goroutines*perRoutine, conflicts)
	rec, err := s.Load(ctx, counterKey)
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(children*perChild + goroutines*perRoutine)
	if got := binary.BigEndian.Uint64(rec.Data); got != want {
		t.Fatalf("counter = %d, want %d: updates were lost across processes", got, want)
	}
}
