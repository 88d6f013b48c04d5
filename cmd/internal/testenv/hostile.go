package testenv

import "strings"

// HostileURL is a store URL holding a credential that nothing a program
// prints may repeat.
type HostileURL struct {
	// URL is the store URL; its servers, if any, are unreachable (port 1
	// on loopback) or the URL does not parse.
	URL string
	// Secret is the credential, as it appears in the URL.
	Secret string
}

// HostileURLs returns store URLs of every scheme that storeurl supports,
// with passwords that net/url cannot parse (an unencoded '#', '/', '?' or
// '@'), passwords in query parameters, and percent-encoded ones. Every
// secret contains "Sekr3t", on both sides of its special character where it
// has one, so a test can also check that no piece of it survives.
func HostileURLs() []HostileURL {
	var out []HostileURL
	add := func(rawURL, secret string) { out = append(out, HostileURL{rawURL, secret}) }
	servers := map[string]string{
		"mysql": "/db", "mariadb": "/db", "postgres": "/db", "postgresql": "/db",
		"redis": "/0", "rediss": "/0", "redis-cluster": "", "redis-sentinel": "/0?master=m",
		"memcache": "", "memcached": "", "mongodb": "/db",
	}
	for _, scheme := range []string{"mysql", "mariadb", "postgres", "postgresql", "redis", "rediss", "redis-cluster", "redis-sentinel", "memcache", "memcached", "mongodb"} {
		for _, pw := range []string{"Sekr3tPl41n", "Sekr3t#h4shSekr3t", "Sekr3t/sl4shSekr3t", "Sekr3t?qu3rySekr3t"} {
			add(scheme+"://user:"+pw+"@127.0.0.1:1"+servers[scheme], pw)
		}
	}
	add("redis://127.0.0.1:1/0?password=qp4ssSekr3t", "qp4ssSekr3t")
	add("redis://127.0.0.1:1/0?password=qp4ss%2FSekr3t&bogus=1", "qp4ss%2FSekr3t")
	add("redis://:m4ny@at@Sekr3t@127.0.0.1:1/0", "m4ny@at@Sekr3t")
	add("redis://user:12345678/Sekr3t@127.0.0.1:1/0", "12345678/Sekr3t")
	add("rediss://user:p%23ct%2FSekr3t@127.0.0.1:1/0", "p%23ct%2FSekr3t")
	add("redis-sentinel://127.0.0.1:1/0?master=m&sentinel_password=s3ntSekr3t", "s3ntSekr3t")
	add("redis-cluster://127.0.0.1:1?password=clust3rSekr3t", "clust3rSekr3t")
	add("memcache://127.0.0.1:1?password=m3mSekr3t", "m3mSekr3t")
	add("memcached://user:p@ss%zzSekr3t@127.0.0.1:1", "p@ss%zzSekr3t")
	add("mysql://user:12345678/Sekr3t@127.0.0.1:1/db", "12345678/Sekr3t")
	add("mysql://user:b4d%zzSekr3t@127.0.0.1:1/db", "b4d%zzSekr3t")
	add("mysql://user:sp4ce Sekr3t@127.0.0.1:1/db?tls=bogus", "sp4ce Sekr3t")
	add("postgres://user@127.0.0.1:1/db?password=pgq%23Sekr3t", "pgq%23Sekr3t")
	add("postgres://user:pg%40%2FSekr3t@127.0.0.1:1/db?sslmode=bogus", "pg%40%2FSekr3t")
	add("mongodb://user:m0ngo%3ASekr3t@127.0.0.1:1/db?bogusOption=1", "m0ngo%3ASekr3t")
	add("mongodb+srv://user:srv#Sekr3t@cluster.invalid/db", "srv#Sekr3t")
	add("mongodb+srv://user:srv/Sekr3t@cluster.invalid/db", "srv/Sekr3t")
	add("sqlite://user:sq#Sekr3t@/nonexistent/x.db", "sq#Sekr3t")
	add("sqlite3://user:sq/Sekr3t@/nonexistent/x.db", "sq/Sekr3t")
	add("file://user:f1le/Sekr3t@/nonexistent/dir", "f1le/Sekr3t")
	add("file://user:f1le?Sekr3t@/nonexistent/dir", "f1le?Sekr3t")
	add("memory://user:m3m#Sekr3t@", "m3m#Sekr3t")
	add("oracle://user:0racle/Sekr3t@127.0.0.1:1/db", "0racle/Sekr3t")
	return out
}

// Leaks reports whether text shows the secret of h, or its telltale
// "Sekr3t" part.
func (h HostileURL) Leaks(text string) bool {
	return strings.Contains(text, h.Secret) || strings.Contains(text, "Sekr3t")
}
