package storeurl

import (
	"net/url"
	"strings"
)

// redacted replaces a credential in everything the programs print.
const redacted = "xxxxx"

// credentials returns the secrets a store URL may hold, in every spelling
// in which a parser or a driver may repeat them: the password of the
// userinfo, and the values of query parameters named like a password
// (redis' password=, sentinel_password=, a token ...). It reads the URL by
// hand as well as with net/url, so that a password net/url cannot parse (an
// unencoded '/', '?', '#' or '@') is still found. Over-long candidates
// (everything up to an '@' in the query) do no harm: they only hide more.
func credentials(rawURL string) []string {
	var raw []string
	rest := rawURL
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	} else if _, after, ok := strings.Cut(rest, ":"); ok {
		rest = after
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, pass, ok := strings.Cut(rest[:at], ":"); ok {
			raw = append(raw, pass)
			// When an unencoded '/', '?', '#' or '@' ends the authority
			// early, net/url takes pieces of the password for a port, a
			// path, a query: hide the pieces too (all but tiny ones,
			// which would blot out ordinary words).
			for _, piece := range strings.FieldsFunc(pass, func(r rune) bool { return strings.ContainsRune("/?#@", r) }) {
				if len(piece) >= 4 && piece != pass {
					raw = append(raw, piece)
				}
			}
		}
	}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			raw = append(raw, p)
		}
	}
	if _, query, ok := strings.Cut(rawURL, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		values, _ := url.ParseQuery(query) // keeps what parses
		for k, vs := range values {
			if secretParam(k) {
				raw = append(raw, vs...)
			}
		}
		for _, kv := range strings.Split(query, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok && secretParam(k) {
				raw = append(raw, v)
			}
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range raw {
		forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.TrimPrefix(url.UserPassword("", s).String(), ":")}
		if un, err := url.PathUnescape(s); err == nil {
			forms = append(forms, un)
		}
		if un, err := url.QueryUnescape(s); err == nil {
			forms = append(forms, un)
		}
		for _, f := range forms {
			if f != "" && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// secretParam reports whether a query parameter holds a credential.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "pass") || strings.Contains(n, "secret") || strings.Contains(n, "token") || n == "pwd"
}

// scrub returns s with every credential replaced by "xxxxx", longest
// first (so that a credential containing another is hidden whole).
func scrub(s string, secrets []string) string {
	sorted := append([]string(nil), secrets...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && len(sorted[j]) > len(sorted[j-1]); j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	for _, c := range sorted {
		s = strings.ReplaceAll(s, c, redacted)
	}
	return s
}

// scrubbedError is an error whose text has had credentials removed. It
// still matches what it wraps with errors.Is and errors.As (ErrUsage,
// context errors, driver errors).
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubError returns err with every credential of secrets removed from its
// text.
func scrubError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := scrub(err.Error(), secrets)
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{msg: msg, err: err}
}
