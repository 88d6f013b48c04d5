package mongostore

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A document is live when any of these holds (cutoff = now - MaxLifetime):
//
//  1. expires > now                          (written by this package)
//  2. modified > cutoff                      (updated by PHP, or by this package)
//  3. modified, expires null; created > cutoff
//  4. modified, expires, created null; seen > cutoff
//  5. modified, expires, created, seen null  (PHP-inserted, not yet seen by GC)
//
// This package writes modified = min(now, expires - MaxLifetime), so on its
// own documents rule 2 never outlives rule 1: their expiry is exactly
// expires. A PHP update of such a document sets modified to PHP's clock and
// keeps it alive MaxLifetime from then, as PHP expects.
//
// expiryOf is that rule on a decoded document: Load and Save read by _id
// alone and judge liveness here. liveBranches is the same rule as a query
// (an $or of the branches; its $nor is "expired"), for the commands that
// select several documents (GC, Iterate, OwnerKeys) and for Touch, which has
// no version to pin and must not revive an expired document. Both use the
// client's clock.

func (s *Store) liveBranches(now time.Time) bson.A {
	f := s.opts.Fields
	nowDT := bson.NewDateTimeFromTime(now)
	cutoff := bson.NewDateTimeFromTime(now.Add(-s.opts.MaxLifetime))
	return bson.A{
		bson.D{{Key: f.Expires, Value: bson.D{{Key: "$gt", Value: nowDT}}}},
		bson.D{{Key: f.Modified, Value: bson.D{{Key: "$gt", Value: cutoff}}}},
		bson.D{
			{Key: f.Modified, Value: nil}, {Key: f.Expires, Value: nil},
			{Key: f.Created, Value: bson.D{{Key: "$gt", Value: cutoff}}},
		},
		bson.D{
			{Key: f.Modified, Value: nil}, {Key: f.Expires, Value: nil}, {Key: f.Created, Value: nil},
			{Key: f.Seen, Value: bson.D{{Key: "$gt", Value: cutoff}}},
		},
		bson.D{
			{Key: f.Modified, Value: nil}, {Key: f.Expires, Value: nil}, {Key: f.Created, Value: nil},
			{Key: f.Seen, Value: nil},
		},
	}
}

// expiredFilter matches the documents that are not live.
func (s *Store) expiredFilter(now time.Time) bson.D {
	return bson.D{{Key: "$nor", Value: s.liveBranches(now)}}
}

// unseenFilter matches the documents judged by first sight that GC has not
// yet stamped (rule 5).
func (s *Store) unseenFilter() bson.D {
	f := s.opts.Fields
	return bson.D{
		{Key: f.Modified, Value: nil}, {Key: f.Expires, Value: nil},
		{Key: f.Created, Value: nil}, {Key: f.Seen, Value: nil},
	}
}

// live reports whether d is live at now.
func (s *Store) live(d doc, now time.Time) bool { return s.expiryOf(d, now).After(now) }

// expiryOf returns the expiry of a document by the rule above; for a
// document never seen by GC it is now + MaxLifetime.
func (s *Store) expiryOf(d doc, now time.Time) time.Time {
	ml := s.opts.MaxLifetime
	var e time.Time
	if d.hasExpires {
		e = d.expires
	}
	if d.hasModified {
		if m := d.modified.Add(ml); m.After(e) {
			e = m
		}
	}
	if !d.hasModified && !d.hasExpires {
		switch {
		case d.hasCreated:
			e = d.created.Add(ml)
		case d.hasSeen:
			e = d.seen.Add(ml)
		default:
			e = now.Add(ml)
		}
	}
	return e
}
