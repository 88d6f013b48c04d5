package main

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// timeLayout is how pages show times: in UTC, as the stores keep them, so
// that a page reads the same whatever the server's time zone.
const timeLayout = "2006-01-02 15:04:05 UTC"

// pages holds one template per page, each with the shared layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format(timeLayout)
		},
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			d := time.Since(t).Round(time.Second)
			if d < 0 {
				return "in " + (-d).String()
			}
			return d.String() + " ago"
		},
	}
	m := map[string]*template.Template{}
	for _, name := range []string{"home", "devices", "record"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return m
}()

// pageData is what every page template receives.
type pageData struct {
	Title   string
	User    string
	Flash   string
	CSRF    string
	Count   int
	IsNew   bool
	Created time.Time
	Devices []device
	NoList  string
	Record  *recordView
	Store   string
	Scheme  string
}

// render executes page into a buffer first, so that a template error is a
// clean 500 rather than half a page.
func (a *app) render(w http.ResponseWriter, page string, d pageData) {
	var buf bytes.Buffer
	if err := pages[page].Execute(&buf, d); err != nil {
		a.log.Error("sessiondemo: render", "page", page, "err", err)
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	buf.WriteTo(w)
}
