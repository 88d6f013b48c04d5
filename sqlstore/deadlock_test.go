package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sessionkit/session"
)

// TestMySQLDeadlockIsConflict provokes a real deadlock (error 1213, what a
// Galera node answers when a compare-and-set loses certification) inside the
// compatibility layout's locked save on the single MariaDB, and checks that
// Save reports it as session.ErrConflict. Two transactions each lock a row
// the other then wants: the save holds the session row (SELECT ... FOR
// UPDATE) and, through a test trigger on its UPDATE, waits for a row of a
// lock table that the other transaction holds; that one then asks for the
// session row. InnoDB rolls back the smaller transaction: the save, since the
// other has updated rows first.
func TestMySQLDeadlockIsConflict(t *testing.T) {
	b := backends()[0]
	ctx := ctxT(t)
	db, table, s := compatFixture(t, b, time.Hour, nil)
	lockT, heavyT := uniqueTable(t, db, b.dialect), uniqueTable(t, db, b.dialect)
	mustExec(t, db, "CREATE TABLE `"+lockT+"` (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB")
	mustExec(t, db, "INSERT INTO `"+lockT+"` VALUES (1, 0)")
	mustExec(t, db, "CREATE TABLE `"+heavyT+"` (id INT PRIMARY KEY, n INT NOT NULL) ENGINE=InnoDB")
	for i := range 50 {
		mustExec(t, db, "INSERT INTO `"+heavyT+"` VALUES (?, 0)", i)
	}
	mustExec(t, db, "CREATE TRIGGER `"+table+"_wait` BEFORE UPDATE ON `"+table+"` FOR EACH ROW SELECT n INTO @sk_n FROM `"+lockT+"` WHERE id = 1 FOR UPDATE")

	key := phpKey()
	if _, err := s.Save(ctx, key, session.Record{Data: []byte("v1"), Expiry: time.Now().Add(30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load(ctx, key)
	if err != nil {
		t.Fatal(err)
	}

	other, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	if _, err := other.ExecContext(ctx, "UPDATE `"+heavyT+"` SET n = n + 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "SELECT n FROM `"+lockT+"` WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}

	saved := make(chan error, 1)
	go func() {
		rec.Data = []byte("v2")
		_, err := s.Save(ctx, key, rec)
		saved <- err
	}()
	// Wait until the save waits for the lock table's row.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		// The trigger's locking read shows in the process list while it waits.
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT n INTO @sk_n FROM %'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the save never waited for the lock")
		}
		select {
		case err := <-saved:
			t.Fatalf("the save finished before the deadlock: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := other.ExecContext(ctx, "SELECT data FROM `"+table+"` WHERE session_id = ? FOR UPDATE", key); err != nil {
		t.Fatalf("the other transaction was chosen as the victim: %v", err)
	}
	var saveErr error
	select {
	case saveErr = <-saved:
	case <-time.After(20 * time.Second):
		t.Fatal("the save did not return")
	}
	var me *mysql.MySQLError
	if !errors.As(saveErr, &me) || me.Number != 1213 {
		t.Fatalf("save err = %v, want MySQL error 1213", saveErr)
	}
	if !errors.Is(saveErr, session.ErrConflict) {
		t.Fatalf("save err = %v, want ErrConflict", saveErr)
	}
	t.Logf("save: %v", saveErr)
	if err := other.Rollback(); err != nil {
		t.Fatal(err)
	}
	// The row is as it was; the manager's reload and retry would succeed.
	mustExec(t, db, "DROP TRIGGER `"+table+"_wait`")
	fresh, err := s.Load(context.WithoutCancel(ctx), key)
	if err != nil || string(fresh.Data) != "v1" {
		t.Fatalf("after the deadlock: %q, %v; want v1", fresh.Data, err)
	}
	fresh.Data = []byte("v3")
	if _, err := s.Save(ctx, key, fresh); err != nil {
		t.Fatalf("retry after the deadlock: %v", err)
	}
}
