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
	servers []string // "MariaDB 10.11.x" ...
	// durability holds, per backend, the server settings that decide what
	// a commit costs ("innodb_flush_log_at_trx_commit=2" ...).
	durability map[string]string
}

func describeMachine(ctx context.Context, root string) machine {
	m := machine{cpu: cpuModel(), cores: runtime.NumCPU(), goVer: runtime.Version(), durability: map[string]string{}}
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		m.goVer = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	for _, f := range []func(context.Context, *machine) string{mariadbVersion, postgresVersion, mongoVersion, redisVersion, memcachedVersion} {
		fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		v := f(fctx, &m)
		cancel()
		if v != "" {
			if strings.Contains(v, "FerretDB unknown") {
				v = strings.Replace(v, "FerretDB unknown", "FerretDB "+ferretFromGoMod(root), 1)
			}
			m.servers = append(m.servers, v)
		}
	}
	return m
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

func mariadbVersion(ctx context.Context, m *machine) string {
	dsn := os.Getenv("SESSION_TEST_MYSQL_DSN")
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
	var flush string
	if err := db.QueryRowContext(ctx, "SELECT @@innodb_flush_log_at_trx_commit").Scan(&flush); err == nil {
		m.durability["mariadb"] = "innodb_flush_log_at_trx_commit=" + flush
		v += " (" + m.durability["mariadb"] + ")"
	}
	return name + " " + v
}

func postgresVersion(ctx context.Context, m *machine) string {
	dsn := os.Getenv("SESSION_TEST_POSTGRES_DSN")
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
	var fsync, sync string
	if db.QueryRowContext(ctx, "SHOW fsync").Scan(&fsync) == nil && db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&sync) == nil {
		m.durability["postgres"] = "fsync=" + fsync + ", synchronous_commit=" + sync
		v += " (" + m.durability["postgres"] + ")"
	}
	return "PostgreSQL " + v
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
