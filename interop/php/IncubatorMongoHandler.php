<?php
// IncubatorMongoHandler is the Mongo session adapter of Phalcon's incubator
// (phalcon/incubator-session) on PHP's own SessionHandlerInterface and the
// mongodb extension's low-level driver (MongoDB\Driver\Manager, BulkWrite,
// Query; the mongodb/mongodb library is not needed). It reads and writes
// the incubator adapter's documents:
//
//   { _id: "<session id>", modified: null,        data: "<string>" }  after an insert
//   { _id: "<session id>", modified: UTCDateTime, data: "<string>" }  after an update
//
//   read():    findOne {_id} (the incubator adapter checks no expiry on read)
//   write():   data unchanged since read -> nothing; count {_id};
//              0 -> insert {_id, modified: null, data}; else $set {modified: now, data}
//   destroy(): deleteOne {_id}
//   gc():      deleteMany {modified: {$lte: now - maxlifetime}}
//
// One deliberate difference: the incubator adapter's gc() passes Unix *seconds* to
// UTCDateTime, which expects milliseconds, so its cutoff is in January
// 1970 and it never deletes anything; this handler passes milliseconds,
// as a fixed adapter would. Like the incubator adapter it never deletes documents whose
// modified is null (Go's mongostore GC does).
//
// One addition: validateId() (SessionUpdateTimestampHandlerInterface), which
// the incubator adapter lacks: finds {_id} like read(), so that
// session.use_strict_mode refuses IDs the collection does not hold (without
// it, PHP's strict mode accepts every ID with a user handler).
// updateTimestamp() is what PHP calls instead when it has no such method:
// write().
//
// The clock is injectable ($now) so that tests can move time without
// sleeping.

declare(strict_types=1);

use MongoDB\BSON\UTCDateTime;
use MongoDB\Driver\BulkWrite;
use MongoDB\Driver\Manager;
use MongoDB\Driver\Query;

final class IncubatorMongoHandler implements SessionHandlerInterface, SessionUpdateTimestampHandlerInterface
{
    /** @var ?string what the last read() found (null: no document) */
    public ?string $lastRead = null;

    /** @var ?string the incubator adapter's $this->data: the data read, for the lazy write */
    private ?string $data = null;

    /**
     * @param Manager  $manager connection
     * @param string   $ns      "database.collection"
     * @param callable $now     returns the current Unix time in seconds
     */
    public function __construct(private Manager $manager, private string $ns, private $now)
    {
    }

    public function open(string $path, string $name): bool
    {
        // One request per session_start(): forget the previous request's
        // data (the incubator adapter's handler lives for one request only).
        $this->data = null;
        return true;
    }

    public function close(): bool
    {
        return true;
    }

    public function read(string $id): string|false
    {
        $docs = $this->manager->executeQuery($this->ns, new Query(['_id' => $id], ['limit' => 1]))->toArray();
        $this->lastRead = null;
        if ($docs === [] || !isset($docs[0]->data)) {
            return '';
        }
        $this->data = $this->lastRead = (string)$docs[0]->data;
        return $this->data;
    }

    public function validateId(string $id): bool
    {
        return $this->manager->executeQuery(
            $this->ns,
            new Query(['_id' => $id], ['projection' => ['_id' => 1], 'limit' => 1])
        )->toArray() !== [];
    }

    public function updateTimestamp(string $id, string $data): bool
    {
        return $this->write($id, $data);
    }

    public function write(string $id, string $data): bool
    {
        if ($this->data === $data) {
            return true;
        }
        $count = count($this->manager->executeQuery(
            $this->ns,
            new Query(['_id' => $id], ['projection' => ['_id' => 1], 'limit' => 1])
        )->toArray());
        $bulk = new BulkWrite();
        if ($count === 0) {
            $bulk->insert(['_id' => $id, 'modified' => null, 'data' => $data]);
        } else {
            $bulk->update(
                ['_id' => $id],
                ['$set' => ['modified' => new UTCDateTime(($this->now)() * 1000), 'data' => $data]]
            );
        }
        $this->manager->executeBulkWrite($this->ns, $bulk);
        $this->data = $data;
        return true;
    }

    public function destroy(string $id): bool
    {
        $this->data = null;
        $bulk = new BulkWrite();
        $bulk->delete(['_id' => $id], ['limit' => 1]);
        $this->manager->executeBulkWrite($this->ns, $bulk);
        return true;
    }

    public function gc(int $maxLifetime): int|false
    {
        $bulk = new BulkWrite();
        $bulk->delete(['modified' => ['$lte' => new UTCDateTime((($this->now)() - $maxLifetime) * 1000)]]);
        return $this->manager->executeBulkWrite($this->ns, $bulk)->getDeletedCount() ?? 0;
    }
}
