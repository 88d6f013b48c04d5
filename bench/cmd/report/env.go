package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// machine describes where the run happened.
type machine struct {
	cpu     string
	cores   int
	goVer   string
	servers []server
	// durability holds, per backend, the server settings that decide what
	// a commit costs ("innodb_flush_log_at_trx_commit=2" ...).
	durability map[string]string
	// fsync is the median time of an 8 KiB write and fsync in the servers'
	// data directory (zero if not measured).
	fsync    time.Duration
	fsyncDir string
}

// server is one row of the machine table: "MariaDB (durable)" and its
// version and settings.
type server struct{ name, about string }

func describeMachine(ctx context.Context, root string) machine {
	m := machine{cpu: cpuModel(), cores: runtime.NumCPU(), goVer: runtime.Version(), durability: map[string]string{}}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.goVer = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	probes := []func(context.Context, *machine) string{
		mariadbVersion("mariadb", "SESSION_TEST_MYSQL_DSN"), mariadbVersion("mariadb-durable", "SESSION_TEST_MYSQL_DURABLE_DSN"),
		postgresVersion("postgres", "SESSION_TEST_POSTGRES_DSN"), postgresVersion("postgres-durable", "SESSION_TEST_POSTGRES_DURABLE_DSN"),
		mongoVersion, redisVersion, memcachedVersion,
	}
	for _, f := range probes {
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		v := f(fctx, &m)
		cancel()
		if v != "" {
			if strings.Contains(v, "FerretDB unknown") {
				v = strings.Replace(v, "FerretDB unknown", "FerretDB "+ferretFromGoMod(root), 1)
			}
			name, about, _ := strings.Cut(v, " ")
			if rest, ok := strings.CutPrefix(about, "(durable) "); ok {
				name, about = name+" (durable)", rest
			}
			m.servers = append(m.servers, server{name, about})
		}
	}
	m.fsyncDir = os.Getenv("SESSION_TEST_SERVICES_DIR")
	if m.fsyncDir == "" {
		m.fsyncDir = root
	}
	m.fsync, _ = fsyncTime(m.fsyncDir)
	if rel, err := filepath.Rel(root, m.fsyncDir); err == nil && !strings.HasPrefix(rel, "..") {
		m.fsyncDir = rel // the page names paths from the repository root
	}
	return m
}

// fsyncTime is the median of 50 rounds of an 8 KiB write and fsync of a
// temporary file in dir: what a durable commit waits for at the least.
func fsyncTime(dir string) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 8<<10)
	times := make([]float64, 0, 50)
	for range 50 {
		start := time.Now()
		if _, err := f.WriteAt(buf, 0); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		times = append(times, float64(time.Since(start)))
	}
	return time.Duration(median(times)), nil
}

// ferretFromGoMod reads the FerretDB version that scripts/services.sh builds
// (an embedded build reports "unknown").
func ferretFromGoMod(root string) string {
	b, err := os.ReadFile(filepath.Join(root, "internal", "mongotest", "go.mod"))
	if err != nil {
		return "(version not reported)"
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "github.com/FerretDB/FerretDB" {
				return f[i+1] + " (embedded, SQLite backend)"
			}
		}
	}
	return "(version not reported)"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// mariadbVersion returns the probe of backend's server, whose DSN is in
// variable dsnVar.
func mariadbVersion(backend, dsnVar string) func(context.Context, *machine) string {
	return func(ctx context.Context, m *machine) string { return mariadbProbe(ctx, m, backend, os.Getenv(dsnVar)) }
}

func mariadbProbe(ctx context.Context, m *machine, backend, dsn string) string {
	if dsn == "" {
		return ""
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return ""
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return ""
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return ""
	}
	name := "MySQL"
	if strings.Contains(strings.ToLower(v), "mariadb") {
		name = "MariaDB"
	}
	var flush, syncBinlog, logBin, pool string
	if err := db.QueryRowContext(ctx, "SELECT @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, @@innodb_buffer_pool_size").
		Scan(&flush, &syncBinlog, &logBin, &pool); err == nil {
		m.durability[backend] = "innodb_flush_log_at_trx_commit=" + flush + ", sync_binlog=" + syncBinlog + ", log_bin=" + onOff(logBin)
		v += " (" + m.durability[backend] + ", buffer pool " + mebibytes(pool) + ")"
	}
	if strings.HasSuffix(backend, "-durable") {
		name += " (durable)"
	}
	return name + " " + v
}

func onOff(v string) string {
	switch v {
	case "1":
		return "ON"
	case "0":
		return "OFF"
	}
	return v
}

func mebibytes(bytes string) string {
	var n int64
	if _, err := fmt.Sscan(bytes, &n); err != nil {
		return bytes
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

// postgresVersion returns the probe of backend's server, whose DSN is in
// variable dsnVar.
func postgresVersion(backend, dsnVar string) func(context.Context, *machine) string {
	return func(ctx context.Context, m *machine) string { return postgresProbe(ctx, m, backend, os.Getenv(dsnVar)) }
}

func postgresProbe(ctx context.Context, m *machine, backend, dsn string) string {
	if dsn == "" {
		return ""
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return ""
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return ""
	}
	var fsync, sync, fpw, buffers string
	if db.QueryRowContext(ctx, "SHOW fsync").Scan(&fsync) == nil && db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&sync) == nil &&
		db.QueryRowContext(ctx, "SHOW full_page_writes").Scan(&fpw) == nil && db.QueryRowContext(ctx, "SHOW shared_buffers").Scan(&buffers) == nil {
		m.durability[backend] = "fsync=" + fsync + ", synchronous_commit=" + sync + ", full_page_writes=" + fpw
		v += " (" + m.durability[backend] + ", shared_buffers " + buffers + ")"
	}
	name := "PostgreSQL"
	if strings.HasSuffix(backend, "-durable") {
		name += " (durable)"
	}
	return name + " " + v
}

func mongoVersion(ctx context.Context, m *machine) string {
	uri := os.Getenv("SESSION_TEST_MONGO_URI")
	if uri == "" {
		return ""
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return ""
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	var info bson.M
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return ""
	}
	s := fmt.Sprintf("MongoDB wire protocol, reports version %v", info["version"])
	if fv, ok := info["ferretdbVersion"]; ok {
		s = fmt.Sprintf("FerretDB %v (reports MongoDB %v)", fv, info["version"])
	} else if fi, ok := info["ferretdb"].(bson.M); ok {
		s = fmt.Sprintf("FerretDB %v (reports MongoDB %v)", fi["version"], info["version"])
	}
	return s
}

func redisVersion(ctx context.Context, m *machine) string {
	addr := os.Getenv("SESSION_TEST_REDIS_ADDR")
	if addr == "" {
		return ""
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return "Redis " + v
		}
	}
	return ""
}

func memcachedVersion(ctx context.Context, m *machine) string {
	addr := os.Getenv("SESSION_TEST_MEMCACHED_ADDR")
	if addr == "" {
		return ""
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("version\r\n")); err != nil {
		return ""
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return ""
	}
	return "memcached " + strings.TrimSpace(strings.TrimPrefix(line, "VERSION "))
}
