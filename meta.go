package session

import (
	"maps"
	"strings"
)

// reservedPrefix marks the keys the manager keeps for itself inside the
// encoded data, beside the user's values. They never appear in a Session's
// values: they are split off on load and added back on save.
const reservedPrefix = "_sessionkit."

// Reserved keys.
const (
	persistKey   = reservedPrefix + "persist"   // bool: RememberMe's choice
	retiredKey   = reservedPrefix + "renewed"   // bool: an ID retired by Renew
	successorKey = reservedPrefix + "successor" // string: the key Renew moved to
	ancestorKey  = reservedPrefix + "ancestor"  // string: the key Renew moved from
	linkToKey    = reservedPrefix + "link"      // string: in a link record, the successor's key
	endedKey     = reservedPrefix + "ended"     // bool: a destroyed session, about to be deleted
)

// meta is a session's lifecycle metadata, kept in the record beside the
// values but never among them.
type meta struct {
	persist   *bool  // RememberMe's choice, nil for the manager's default
	retired   bool   // this record is an ID retired by Renew: read-only, fixed expiry
	successor string // on a retired record: the store key of the renewed session
	ancestor  string // on a renewed record: the store key it was renewed from
	link      string // a link record (raw IDs): the key of a retired ID's successor
	ended     bool   // destroyed: a session no more, deleted next
}

func (mt meta) empty() bool {
	return mt.persist == nil && !mt.retired && mt.successor == "" && mt.ancestor == "" && mt.link == "" && !mt.ended
}

// splitMeta removes the reserved keys from values and returns them as meta.
// Unknown reserved keys stay in values (hidden by Keys and Values) so that
// they survive a save.
func splitMeta(values map[string]any) meta {
	var mt meta
	for k, v := range values {
		if !strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		switch k {
		case persistKey:
			if b, ok := v.(bool); ok {
				mt.persist = &b
			}
		case retiredKey:
			mt.retired, _ = v.(bool)
		case successorKey:
			mt.successor, _ = v.(string)
		case ancestorKey:
			mt.ancestor, _ = v.(string)
		case linkToKey:
			mt.link, _ = v.(string)
		case endedKey:
			mt.ended, _ = v.(bool)
		default:
			continue
		}
		delete(values, k)
	}
	return mt
}

// withMeta returns values with mt's reserved keys added, without changing
// values itself.
func withMeta(values map[string]any, mt meta) map[string]any {
	if mt.empty() {
		return values
	}
	out := make(map[string]any, len(values)+4)
	maps.Copy(out, values)
	if mt.persist != nil {
		out[persistKey] = *mt.persist
	}
	if mt.retired {
		out[retiredKey] = true
	}
	if mt.successor != "" {
		out[successorKey] = mt.successor
	}
	if mt.ancestor != "" {
		out[ancestorKey] = mt.ancestor
	}
	if mt.link != "" {
		out[linkToKey] = mt.link
	}
	if mt.ended {
		out[endedKey] = true
	}
	return out
}

// encodeSession encodes a session's values and metadata for key.
func (m *Manager) encodeSession(key string, values map[string]any, mt meta) ([]byte, error) {
	return m.encode(key, withMeta(values, mt))
}

// decodeSession decodes a record's data into values and metadata.
func (m *Manager) decodeSession(key string, data []byte) (map[string]any, meta, error) {
	values, err := m.decode(key, data)
	if err != nil {
		return nil, meta{}, err
	}
	return values, splitMeta(values), nil
}
