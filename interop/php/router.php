<?php
// router.php is the PHP application of the browser tests, run by PHP's
// built-in web server (php -S 127.0.0.1:0 router.php) behind the test's
// reverse proxy, which sends it the paths under /php/. It uses PHP's own
// session machinery — the PHPSESSID cookie, session_start(), $_SESSION —
// with the incubator adapters' handlers (IncubatorDatabaseHandler.php,
// IncubatorMongoHandler.php). Every php.ini setting comes from the server's -d
// flags; the store from the environment:
//
//   SK_BACKEND      mysql | sqlite | mongo
//   SK_PDO_DSN, SK_PDO_USER, SK_PDO_PASSWORD, SK_TABLE     (mysql, sqlite)
//   SK_MONGO_URI, SK_MONGO_NS ("database.collection")      (mongo)
//
// Requests (keys follow Phalcon's conventions for uniqueId "app": app#key,
// a Bag "cart" as one array, Phalcon\Flash\Session under
// app#_flashMessages):
//
//   GET /php/login?user=U   start a session, renew its ID (session_regenerate_id(true)),
//                           store app#user, app#visits = 1, a cart, a flash message
//   GET /php/visit          app#visits + 1, add to the cart, a flash notice
//   GET /php/set?key=K&value=V   $_SESSION[K] = V
//   GET /php/show           read-only (read_and_close)
//
// Each answers JSON: {"id": session_id(), "found": whether the handler read
// a stored session, "session": serialize($_SESSION) with its top-level keys
// sorted}. Any PHP warning or exception answers 500 with the message.

declare(strict_types=1);

set_error_handler(static function (int $no, string $msg, string $file, int $line): bool {
    throw new ErrorException($msg, 0, $no, $file, $line);
});

require __DIR__ . '/IncubatorDatabaseHandler.php';
require __DIR__ . '/IncubatorMongoHandler.php';

function env(string $name): string
{
    $v = getenv($name);
    if ($v === false) {
        throw new RuntimeException("environment variable $name is not set");
    }
    return $v;
}

function handler(): SessionHandlerInterface
{
    $clock = static fn (): int => time();
    switch (env('SK_BACKEND')) {
        case 'mysql':
        case 'sqlite':
            $mysql = env('SK_BACKEND') === 'mysql';
            $pdo = new PDO(env('SK_PDO_DSN'), $mysql ? env('SK_PDO_USER') : null, $mysql ? env('SK_PDO_PASSWORD') : null, [
                PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                PDO::ATTR_TIMEOUT => 10,
            ]);
            if ($mysql) {
                $pdo->exec("SET time_zone = '+00:00'"); // = PHP's date.timezone
            }
            return new IncubatorDatabaseHandler($pdo, env('SK_TABLE'), $mysql, $clock);
        case 'mongo':
            return new IncubatorMongoHandler(new MongoDB\Driver\Manager(env('SK_MONGO_URI')), env('SK_MONGO_NS'), $clock);
    }
    throw new InvalidArgumentException('unknown SK_BACKEND ' . env('SK_BACKEND'));
}

function answer(int $status, array $body): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}

function dump(): string
{
    $s = $_SESSION;
    ksort($s, SORT_STRING);
    return serialize($s);
}

try {
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    $handler = handler();
    session_set_save_handler($handler, true);
    switch ($path) {
        case '/php/login':
            session_start();
            session_regenerate_id(true);
            $user = (string)($_GET['user'] ?? '');
            $_SESSION['app#user'] = $user;
            $_SESSION['app#visits'] = 1;
            $_SESSION['app#cart'] = ['sku-' . strlen($user) => 1];
            $_SESSION['app#_flashMessages'] = ['success' => ["Welcome $user"]];
            break;
        case '/php/visit':
            session_start();
            $_SESSION['app#visits'] = ($_SESSION['app#visits'] ?? 0) + 1;
            $_SESSION['app#cart']['sku-php'] = ($_SESSION['app#cart']['sku-php'] ?? 0) + 2;
            $_SESSION['app#_flashMessages']['notice'][] = 'PHP was here';
            break;
        case '/php/set':
            session_start();
            $_SESSION[(string)$_GET['key']] = (string)$_GET['value'];
            break;
        case '/php/show':
            session_start(['read_and_close' => true]);
            break;
        default:
            answer(404, ['error' => "no route $path"]);
            return true;
    }
    $body = [
        'id' => session_id(),
        'found' => $handler->lastRead !== null && $handler->lastRead !== '',
        'session' => dump(),
    ];
    if (session_status() === PHP_SESSION_ACTIVE) {
        session_write_close();
    }
    answer(200, $body);
} catch (Throwable $e) {
    answer(500, ['error' => get_class($e) . ': ' . $e->getMessage() . ' at ' . $e->getFile() . ':' . $e->getLine()]);
}
return true;
