<?php
// IncubatorDatabaseHandler is the Database session adapter of Phalcon's incubator
// (phalcon/incubator-session) reduced to PHP's own SessionHandlerInterface
// and PDO, issuing its SQL on its session_data table:
//
//   read():    SELECT data WHERE session_id = ? AND COALESCE(modified_at, created_at) >= now - maxlifetime
//   write():   BEGIN; SELECT data ... FOR UPDATE (not on SQLite);
//              row exists and data unchanged -> ROLLBACK (lazy write);
//              row exists -> UPDATE data, modified_at = now;
//              no row     -> INSERT (session_id, data) (created_at from the column default);
//              COMMIT
//   destroy(): DELETE WHERE session_id = ?
//   gc():      DELETE WHERE COALESCE(modified_at, created_at) < now - maxlifetime
//
// One addition: validateId() (SessionUpdateTimestampHandlerInterface), which
// the incubator adapter lacks: SELECT 1 for a live row, so that
// session.use_strict_mode refuses IDs the table does not hold (without it,
// PHP's strict mode accepts every ID with a user handler).
// updateTimestamp() is what PHP calls instead when it has no such method:
// write().
//
// Times are written as 'Y-m-d H:i:s' text in UTC: on MySQL/MariaDB the
// connection's time_zone is set to '+00:00' so that it matches PHP's
// date.timezone (UTC), which is the condition under which the incubator adapter's
// date() values and the column's CURRENT_TIMESTAMP agree; on SQLite,
// CURRENT_TIMESTAMP is UTC text of the same shape.
//
// The clock is injectable ($now) so that tests can move time without
// sleeping.

declare(strict_types=1);

final class IncubatorDatabaseHandler implements SessionHandlerInterface, SessionUpdateTimestampHandlerInterface
{
    /** @var ?string what the last read() found (null: no live row) */
    public ?string $lastRead = null;

    private string $table;

    /**
     * @param PDO      $pdo   connection (ERRMODE_EXCEPTION)
     * @param string   $table table name (already validated by the caller)
     * @param bool     $lock  use SELECT ... FOR UPDATE (not on SQLite)
     * @param callable $now   returns the current Unix time in seconds
     */
    public function __construct(private PDO $pdo, string $table, private bool $lock, private $now)
    {
        if (!preg_match('/^[A-Za-z_][A-Za-z0-9_]*$/', $table)) {
            throw new InvalidArgumentException("bad table name $table");
        }
        $this->table = $table;
    }

    private function stamp(int $t): string
    {
        return gmdate('Y-m-d H:i:s', $t);
    }

    private function cutoff(int $maxLifetime): string
    {
        return $this->stamp(($this->now)() - $maxLifetime);
    }

    public function open(string $path, string $name): bool
    {
        return true;
    }

    public function close(): bool
    {
        return true;
    }

    public function read(string $id): string|false
    {
        $maxLifetime = (int)ini_get('session.gc_maxlifetime');
        $st = $this->pdo->prepare(
            "SELECT data FROM {$this->table} WHERE session_id = ? AND COALESCE(modified_at, created_at) >= ?"
        );
        $st->execute([$id, $this->cutoff($maxLifetime)]);
        $row = $st->fetch(PDO::FETCH_NUM);
        $st->closeCursor();
        $this->lastRead = $row === false ? null : (string)$row[0];
        return $this->lastRead ?? '';
    }

    public function validateId(string $id): bool
    {
        $maxLifetime = (int)ini_get('session.gc_maxlifetime');
        $st = $this->pdo->prepare(
            "SELECT 1 FROM {$this->table} WHERE session_id = ? AND COALESCE(modified_at, created_at) >= ?"
        );
        $st->execute([$id, $this->cutoff($maxLifetime)]);
        $found = $st->fetch(PDO::FETCH_NUM) !== false;
        $st->closeCursor();
        return $found;
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        return $this->write($id, $data);
    }

    public function write(string $id, string $data): bool
    {
        $this->pdo->beginTransaction();
        try {
            $st = $this->pdo->prepare(
                "SELECT data FROM {$this->table} WHERE session_id = ?" . ($this->lock ? ' FOR UPDATE' : '')
            );
            $st->execute([$id]);
            $row = $st->fetch(PDO::FETCH_NUM);
            $st->closeCursor();
            if ($row !== false && (string)$row[0] === $data) {
                $this->pdo->rollBack();
                return true;
            }
            if ($row !== false) {
                $this->pdo->prepare(
                    "UPDATE {$this->table} SET data = ?, modified_at = ? WHERE session_id = ?"
                )->execute([$data, $this->stamp(($this->now)()), $id]);
            } else {
                $this->pdo->prepare(
                    "INSERT INTO {$this->table} (session_id, data) VALUES (?, ?)"
                )->execute([$id, $data]);
            }
            $this->pdo->commit();
            return true;
        } catch (Throwable $e) {
            if ($this->pdo->inTransaction()) {
                $this->pdo->rollBack();
            }
            throw $e;
        }
    }

    public function destroy(string $id): bool
    {
        $this->pdo->prepare("DELETE FROM {$this->table} WHERE session_id = ?")->execute([$id]);
        return true;
    }

    public function gc(int $maxLifetime): int|false
    {
        $st = $this->pdo->prepare(
            "DELETE FROM {$this->table} WHERE COALESCE(modified_at, created_at) < ?"
        );
        $st->execute([$this->cutoff($maxLifetime)]);
        return $st->rowCount();
    }
}
