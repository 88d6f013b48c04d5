// Command modzip writes modules of a working tree into a file-based module
// proxy (GOPROXY=file://DIR), in the layout the go command reads: for each
// module, <escaped path>/@v/list, VERSION.info, VERSION.mod and VERSION.zip.
// The zips are made by golang.org/x/mod/zip, the code behind the go command's
// own module zips, so they obey the same rules (no nested modules, no vendor
// directories, size and file-name limits).
//
// Usage:
//
//	git ls-files -z -co --exclude-standard | modzip -repo ROOT -proxy DIR -version V [-time T] MODDIR...
//
// The file list on stdin (NUL-separated, relative to ROOT) says what belongs
// to the tree; files listed but absent (deleted, not yet committed) are left
// out. Each MODDIR is a directory relative to ROOT holding a go.mod; "." is
// the root module. For each module it prints the go.sum line a user would get.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("modzip: ")
	repo := flag.String("repo", ".", "repository root the file list is relative to")
	proxy := flag.String("proxy", "", "proxy directory to write (required)")
	version := flag.String("version", "", "version to give every module, e.g. v0.1.0 (required)")
	stamp := flag.String("time", "", "RFC 3339 time for the .info files (default: now)")
	flag.Parse()
	if *proxy == "" || *version == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if !semver.IsValid(*version) || semver.Canonical(*version) != *version {
		log.Fatalf("version %q is not a canonical semantic version", *version)
	}
	t := time.Now().UTC()
	if *stamp != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, *stamp); err != nil {
			log.Fatal(err)
		}
	}
	files, err := readList(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	for _, dir := range flag.Args() {
		line, err := write(*repo, path.Clean(dir), files, *proxy, *version, t.UTC())
		if err != nil {
			log.Fatalf("%s: %v", dir, err)
		}
		fmt.Println(line)
	}
}

// readList reads NUL-separated slash paths.
func readList(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(bufio.NewReader(r))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range strings.Split(string(data), "\x00") {
		if p != "" {
			out = append(out, path.Clean(p))
		}
	}
	slices.Sort(out)
	return out, nil
}

// file is a zip.File on disk.
type file struct{ rel, abs string }

func (f file) Path() string                 { return f.rel }
func (f file) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f file) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

func write(repo, dir string, list []string, proxy, version string, t time.Time) (string, error) {
	modDir := filepath.Join(repo, filepath.FromSlash(dir))
	gomod, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return "", err
	}
	modPath := modfile.ModulePath(gomod)
	if modPath == "" {
		return "", errors.New("go.mod has no module line")
	}
	mv := module.Version{Path: modPath, Version: version}

	var files []zip.File
	for _, p := range list {
		rel := p
		if dir != "." {
			var ok bool
			if rel, ok = strings.CutPrefix(p, dir+"/"); !ok {
				continue
			}
		}
		abs := filepath.Join(modDir, filepath.FromSlash(rel))
		if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
			continue // listed by git, deleted in the working tree
		}
		files = append(files, file{rel: rel, abs: abs})
	}
	// Report what the go command would leave out or refuse, then build.
	cf, err := zip.CheckFiles(files)
	if err != nil {
		return "", err
	}
	if err := cf.Err(); err != nil {
		return "", err
	}

	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return "", err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return "", err
	}
	base := filepath.Join(vdir, version)
	var buf bytes.Buffer
	if err := zip.Create(&buf, mv, files); err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".zip", buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	if _, err := zip.CheckZip(mv, base+".zip"); err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return "", err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return "", err
	}
	if err := addToList(filepath.Join(vdir, "list"), version); err != nil {
		return "", err
	}
	h, err := dirhash.HashZip(base+".zip", dirhash.Hash1)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %s %s (%d files, %d bytes)", modPath, version, h, len(cf.Valid), buf.Len()), nil
}

// addToList adds version to the proxy's version list, once.
func addToList(name, version string) error {
	old, err := os.ReadFile(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	vs := strings.Fields(string(old))
	if !slices.Contains(vs, version) {
		vs = append(vs, version)
	}
	semver.Sort(vs)
	return os.WriteFile(name, []byte(strings.Join(vs, "\n")+"\n"), 0o644)
}
