package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sessionkit/session/cmd/internal/storeurl"
)

const showHelp = `Shows one session: its store key, owner, times, size and decoded values.
The argument is a session ID (the cookie value), hashed to its key unless
the store keeps raw IDs, or a store key as "sessionctl ls" prints it.
Values are decoded with --codec (default: the URL's codec parameter, else
binary, which also reads gob records); sessions written by PHP need php,
php_binary or php_serialize.

Examples:
  sessionctl --store sqlite:///var/lib/app/sessions.db show 3f0c9d...e1
  sessionctl --store 'mysql://root@127.0.0.1/app?layout=compat' show --codec php hk3g9...
  sessionctl --store redis://127.0.0.1:6379/0 show --json --hex 3f0c9d...e1`

// showJSON is the --json form of a session.
type showJSON struct {
	Key      string         `json:"key"`
	Owner    string         `json:"owner,omitempty"`
	Created  time.Time      `json:"created"`
	Modified time.Time      `json:"modified"`
	Expires  time.Time      `json:"expires"`
	Version  uint64         `json:"version"`
	Size     int            `json:"size"`
	Codec    string         `json:"codec"`
	Values   map[string]any `json:"values"`
	Data     string         `json:"data_hex,omitempty"`
}

// runShow implements "sessionctl show".
func runShow(c *cli, args []string) int {
	var cf cmdFlags
	var kf codecFlags
	fs := c.flagSet(showHelp, &cf)
	kf.add(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	withHex := fs.Bool("hex", false, "also print the encoded data as a hex dump")
	if code := c.parse(fs, args, 1, 1); code >= 0 {
		return code
	}
	if _, err := storeurl.Codec(kf.codec); err != nil {
		return c.usageError("--codec: unknown codec %q (known: %s)", kf.codec, strings.Join(storeurl.CodecNames(), ", "))
	}
	ctx, cancel := c.context(&cf)
	defer cancel()
	t, err := c.open(ctx, &cf, storeurl.Options{ReadOnly: true})
	if err != nil {
		return c.fail(err)
	}
	defer c.closeTarget(t)
	m, err := kf.manager(t)
	if err != nil {
		return c.fail(err)
	}
	key, rec, err := resolve(ctx, m, fs.Arg(0))
	if err != nil {
		return c.fail(err)
	}
	codec := kf.codec
	if codec == "" {
		codec = t.CodecName
	}
	if codec == "" {
		codec = "binary"
	}
	values, decodeErr := m.Codec.Decode(rec.Data)
	if *asJSON {
		out := showJSON{Key: key, Owner: rec.Owner, Created: rec.Created, Modified: rec.Modified, Expires: rec.Expiry,
			Version: rec.Version, Size: len(rec.Data), Codec: codec, Values: jsonSafe(values)}
		if *withHex {
			out.Data = hex.EncodeToString(rec.Data)
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return c.fail(err)
		}
	} else {
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "key:\t%s\n", key)
		fmt.Fprintf(tw, "owner:\t%s\n", rec.Owner)
		fmt.Fprintf(tw, "created:\t%s\n", timeText(rec.Created))
		fmt.Fprintf(tw, "modified:\t%s\n", timeText(rec.Modified))
		fmt.Fprintf(tw, "expires:\t%s\n", timeText(rec.Expiry))
		fmt.Fprintf(tw, "version:\t%d\n", rec.Version)
		fmt.Fprintf(tw, "size:\t%d bytes\n", len(rec.Data))
		tw.Flush()
		if decodeErr == nil {
			fmt.Fprintf(c.stdout, "values (%s):\n", codec)
			tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			keys := make([]string, 0, len(values))
			for k := range values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(tw, "  %s\t%T\t%v\n", k, values[k], values[k])
			}
			tw.Flush()
		}
		if *withHex {
			fmt.Fprintf(c.stdout, "data:\n%s", hex.Dump(rec.Data))
		}
	}
	if decodeErr != nil {
		return c.fail(fmt.Errorf("decode the values of %s with codec %s: %w", key, codec, decodeErr))
	}
	return exitOK
}

// jsonSafe returns values with every value that JSON cannot encode turned
// into its fmt form.
func jsonSafe(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if _, err := json.Marshal(v); err != nil {
			v = fmt.Sprintf("%v", v)
		}
		out[k] = v
	}
	return out
}
