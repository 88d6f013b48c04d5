// Command report runs sessionkit's benchmarks against its peers once and
// writes BENCHMARKS.md at the repository root and SVG charts in
// bench/charts/.
//
// Run it from the repository root or from bench/, with the test servers'
// variables set (eval "$(SESSION_DURABLE=1 scripts/services.sh)" for every
// backend, the durable ones included); backends whose variable is unset are
// skipped and reported as such:
//
//	cd bench && go run ./cmd/report
//
// It compiles the benchmark binary once, runs BenchmarkSessions backend by
// backend with a fixed iteration count per backend (-scale multiplies them)
// and -rounds rounds in alternating order (the report keeps the median of
// the rounds), then TestLostUpdates, keeps the raw output in bench/results.txt, and
// renders the report from it. -raw FILE renders a report from a saved
// output without running anything.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// plan is how many requests each sub-benchmark of a backend runs: n for the
// sequential workloads, conc for the 32-concurrent one.
type plan struct {
	backend string
	env     string
	n, conc int
}

var plans = []plan{
	{"memory", "", 30000, 3000},
	{"file", "", 9000, 1800},
	{"sqlite", "", 2000, 400},
	{"mariadb", "SESSION_TEST_MYSQL_DSN", 2000, 400},
	{"mariadb-durable", "SESSION_TEST_MYSQL_DURABLE_DSN", 2000, 400},
	{"postgres", "SESSION_TEST_POSTGRES_DSN", 2000, 400},
	{"postgres-durable", "SESSION_TEST_POSTGRES_DURABLE_DSN", 2000, 400},
	{"mongo", "SESSION_TEST_MONGO_URI", 200, 60},
	// FerretDB's SQLite backend scans the collection for an _id lookup:
	// ~30 ms per request at 10,000 documents, ~0.25 s for scs's filter.
	{"mongo-10k", "SESSION_TEST_MONGO_URI", 20, 10},
	{"redis", "SESSION_TEST_REDIS_ADDR", 4000, 800},
	{"memcached", "SESSION_TEST_MEMCACHED_ADDR", 4000, 800},
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("report: ")
	var (
		dir      = flag.String("dir", "", "the bench module's directory (default: ./bench or .)")
		raw      = flag.String("raw", "", "render from this saved output instead of running")
		scale    = flag.Float64("scale", 1, "multiply every iteration count")
		rounds   = flag.Int("rounds", 3, "times each library runs each workload, alternating; the report keeps the median")
		only     = flag.String("backends", "", "regexp of backends to run (default all)")
		noReport = flag.Bool("norender", false, "run and keep the raw output, but write no report")
	)
	flag.Parse()
	benchDir, err := findBenchDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	root := filepath.Dir(benchDir)
	ctx := context.Background()
	var output []byte
	started := time.Now()
	if *raw != "" {
		output, err = os.ReadFile(*raw)
		if err != nil {
			log.Fatal(err)
		}
	} else {
		output, err = run(ctx, benchDir, *scale, *rounds, *only)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(benchDir, "results.txt"), output, 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("raw output in %s (%s)", filepath.Join(benchDir, "results.txt"), time.Since(started).Round(time.Second))
	}
	if *noReport {
		return
	}
	results := parseBench(bytes.NewReader(output))
	lostRows := parseLost(bytes.NewReader(output))
	if len(results) == 0 {
		log.Fatal("no benchmark results in the output")
	}
	m := describeMachine(ctx, root)
	charts := buildCharts(index(results), lostRows)
	chartDir := filepath.Join(benchDir, "charts")
	if err := os.MkdirAll(chartDir, 0o755); err != nil {
		log.Fatal(err)
	}
	var links []chartLink
	for _, c := range charts {
		p := filepath.Join(chartDir, c.file)
		if err := os.WriteFile(p, []byte(c.chart.svg()), 0o644); err != nil {
			log.Fatal(err)
		}
		links = append(links, chartLink{title: c.chart.title, path: "bench/charts/" + c.file})
	}
	md := renderMarkdown(m, results, lostRows, links, skipped(output), failures(output))
	// Sections measured by the module's other benchmarks (bursts, the
	// cache tier, the read path against the driver) are kept by hand in
	// bench/sections.md and appended as they are.
	if extra, err := os.ReadFile(filepath.Join(benchDir, "sections.md")); err == nil {
		md += "\n" + string(extra)
	}
	out := filepath.Join(root, "BENCHMARKS.md")
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s and %d charts in %s", out, len(charts), chartDir)
}

// findBenchDir returns the bench module's directory.
func findBenchDir(dir string) (string, error) {
	cands := []string{dir}
	if dir == "" {
		cands = []string{"bench", "."}
	}
	for _, d := range cands {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/sessionkit/session/bench\n") {
			return filepath.Abs(d)
		}
	}
	return "", fmt.Errorf("bench module not found in %v: run from the repository root or bench/, or pass -dir", cands)
}

// run compiles the benchmark binary and runs every backend's benchmarks
// and then the lost-update test, returning the combined output.
func run(ctx context.Context, benchDir string, scale float64, rounds int, only string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "sessionkit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	log.Printf("compiling the benchmarks")
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".")
	build.Dir = benchDir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go test -c: %w", err)
	}
	var sel *regexp.Regexp
	if only != "" {
		if sel, err = regexp.Compile(only); err != nil {
			return nil, err
		}
	}
	var all bytes.Buffer
	for _, p := range plans {
		if sel != nil && !sel.MatchString(p.backend) {
			continue
		}
		if p.env != "" && os.Getenv(p.env) == "" {
			log.Printf("%s: %s is not set, skipped", p.backend, p.env)
			fmt.Fprintf(&all, "SKIPPED backend=%s variable=%s\n", p.backend, p.env)
			continue
		}
		n, conc := max(1, int(float64(p.n)*scale)), max(1, int(float64(p.conc)*scale))
		for _, step := range []struct {
			works string
			n     int
		}{{"untouched|readonly|write|new", n}, {"concurrent32", conc}} {
			log.Printf("%s: %s, %d requests each, %d rounds", p.backend, step.works, step.n, max(1, rounds))
			args := []string{
				"-test.run=^$",
				"-test.bench=^BenchmarkSessions$/^backend=" + p.backend + "$/^work=(" + step.works + ")$",
				"-test.benchmem", fmt.Sprintf("-test.benchtime=%dx", step.n), "-test.count=1", "-test.timeout=30m",
				fmt.Sprintf("-rounds=%d", max(1, rounds)),
			}
			if err := runBin(ctx, bin, benchDir, args, &all); err != nil {
				log.Printf("%s: %v", p.backend, err)
				fmt.Fprintf(&all, "RUNFAILED %s %s: %v\n", p.backend, step.works, err)
			}
		}
	}
	log.Printf("lost updates")
	args := []string{"-test.run=^TestLostUpdates$", "-test.v", "-test.count=1", "-test.timeout=10m"}
	if err := runBin(ctx, bin, benchDir, args, &all); err != nil {
		log.Printf("lost updates: %v", err)
		fmt.Fprintf(&all, "RUNFAILED lost-updates: %v\n", err)
	}
	return all.Bytes(), nil
}

func runBin(ctx context.Context, bin, dir string, args []string, out *bytes.Buffer) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, progress{})
	cmd.Stderr = io.MultiWriter(&buf, os.Stderr)
	err := cmd.Run()
	out.Write(buf.Bytes())
	if err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return nil
}

// progress echoes result lines to stderr while the benchmarks run.
type progress struct{}

func (progress) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if strings.HasPrefix(line, "BenchmarkSessions/") || strings.Contains(line, "LOSTUPDATES") || strings.Contains(line, "FAIL") || strings.Contains(line, "SKIP") {
			fmt.Fprintln(os.Stderr, strings.TrimSpace(line))
		}
	}
	return len(p), nil
}

var failLine = regexp.MustCompile(`(?m)^RUNFAILED (.+)$|^\s*--- FAIL: (\S+)`)

// failures lists what failed during the run.
func failures(output []byte) []string {
	var out []string
	for _, m := range failLine.FindAllStringSubmatch(string(output), -1) {
		out = append(out, strings.TrimSpace(m[1]+m[2]))
	}
	return out
}

var skipLine = regexp.MustCompile(`SKIPPED backend=(\S+) variable=(\S+)`)

// skipped lists the backends the run skipped, with their variable.
func skipped(output []byte) [][2]string {
	var out [][2]string
	for _, m := range skipLine.FindAllStringSubmatch(string(output), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}
