<?php
// run.php plays a PHP application's requests against a session store shared
// with the Go manager, using PHP's own session machinery
// (session_set_save_handler, session_id, session_start, $_SESSION,
// session_write_close) with the incubator adapter's handlers.
//
// Input (JSON on stdin):
//   {"backend": "mysql" | "sqlite" | "mongo",
//    "pdo":   {"dsn": "...", "user": "...", "password": "..."},   // mysql, sqlite
//    "table": "session_data",                                      // mysql, sqlite
//    "mongo": {"uri": "mongodb://...", "ns": "db.collection"},     // mongo
//    "maxlifetime": 60,                                            // session.gc_maxlifetime
//    "steps": [ {"op": ..., "now": <unix seconds>, ...}, ... ]}
//
// Steps, each one request of the PHP application at the clock "now":
//   {"op": "create"}                          new session (ID from PHP's generator) holding
//                                             the fixture below; answers its "id"
//   {"op": "set", "id": ..., "values": {...}} start the session, set the keys, write
//                                             (an "id" of "@N" is the ID answered by step N)
//   {"op": "dump", "id": ...}                 read-only request (read_and_close): answers
//                                             "found" and "session" = serialize() of $_SESSION
//                                             with its top-level keys sorted
//   {"op": "gc"}                              the handler's gc(session.gc_maxlifetime);
//                                             answers "deleted"
//
// Output (JSON on stdout): one object per step, in order. Any warning or
// error is fatal (exit status 1, message on stderr).

declare(strict_types=1);

set_error_handler(static function (int $no, string $msg, string $file, int $line): bool {
    throw new ErrorException($msg, 0, $no, $file, $line);
});

require __DIR__ . '/IncubatorDatabaseHandler.php';
require __DIR__ . '/IncubatorMongoHandler.php';

// fixture is what the PHP application stores, with Phalcon's key
// conventions for a Phalcon\Session\Manager whose uniqueId is "app":
// keys "app#<key>", a Phalcon\Session\Bag "cart" stored as one array under
// "app#cart", and Phalcon\Flash\Session messages under
// "app#_flashMessages" as [type => [messages]].
function fixture(): array
{
    return [
        'app#user' => "Zoë \"Z\" O'Brien|admin;{}",
        'app#count' => 42,
        'app#negative' => -7,
        'app#ratio' => 0.1,
        'app#big' => 1.0E+25,
        'app#whole' => 3.0,
        'app#flag' => true,
        'app#nothing' => null,
        'app#prefs' => [
            'theme' => 'dark',
            'langs' => ['en', 'fr'],
            'limits' => [10 => 1.5, 'max' => ['deep' => [true, false, null]]],
        ],
        'app#cart' => ['sku-1' => 2, 'sku-2' => 1],
        'app#_flashMessages' => [
            'success' => ['Saved'],
            'error' => ['Card declined', 'Try again'],
        ],
        'other' => 'outside the uniqueId',
    ];
}

$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);

date_default_timezone_set('UTC');
ini_set('session.serialize_handler', 'php');
ini_set('session.use_cookies', '0');
ini_set('session.use_only_cookies', '0');
ini_set('session.use_strict_mode', '0');
ini_set('session.cache_limiter', '');
ini_set('session.gc_probability', '0');
ini_set('session.lazy_write', '1');
ini_set('session.sid_length', '32');
ini_set('session.sid_bits_per_character', '4');
ini_set('session.gc_maxlifetime', (string)(int)$in['maxlifetime']);

$now = 0;
$clock = static function () use (&$now): int {
    return $now;
};

switch ($in['backend']) {
    case 'mysql':
    case 'sqlite':
        $pdo = new PDO($in['pdo']['dsn'], $in['pdo']['user'] ?? null, $in['pdo']['password'] ?? null, [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_TIMEOUT => 10,
        ]);
        if ($in['backend'] === 'mysql') {
            $pdo->exec("SET time_zone = '+00:00'"); // = PHP's date.timezone
        }
        $handler = new IncubatorDatabaseHandler($pdo, $in['table'], $in['backend'] === 'mysql', $clock);
        break;
    case 'mongo':
        $handler = new IncubatorMongoHandler(new MongoDB\Driver\Manager($in['mongo']['uri']), $in['mongo']['ns'], $clock);
        break;
    default:
        throw new InvalidArgumentException('unknown backend ' . $in['backend']);
}
session_set_save_handler($handler, false);

$out = [];
foreach ($in['steps'] as $step) {
    $now = (int)$step['now'];
    if (isset($step['id']) && str_starts_with($step['id'], '@')) {
        $step['id'] = $out[(int)substr($step['id'], 1)]['id'];
    }
    $res = ['op' => $step['op']];
    switch ($step['op']) {
        case 'create':
            session_id('');
            session_start();
            $_SESSION = fixture();
            $res['id'] = session_id();
            session_write_close();
            break;
        case 'set':
            session_id($step['id']);
            session_start();
            foreach ($step['values'] as $k => $v) {
                $_SESSION[$k] = $v;
            }
            $res['id'] = session_id();
            session_write_close();
            break;
        case 'dump':
            session_id($step['id']);
            session_start(['read_and_close' => true]);
            $s = $_SESSION;
            ksort($s, SORT_STRING);
            $res['id'] = session_id();
            $res['found'] = $handler->lastRead !== null && $handler->lastRead !== '';
            $res['session'] = serialize($s);
            $_SESSION = [];
            break;
        case 'gc':
            $res['deleted'] = $handler->gc((int)ini_get('session.gc_maxlifetime'));
            break;
        default:
            throw new InvalidArgumentException('unknown op ' . $step['op']);
    }
    $out[] = $res;
}
echo json_encode($out, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
