package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
)

// Saves of one session that wait on each other within this process are
// combined: the request whose turn it is (the leader) takes every request
// queued behind it and writes all their changes with one compare-and-set,
// each request's own changes applied in arrival order on the latest record.
// Each request returns only once the write holding its change succeeded; a
// change that cannot be stored (ErrTooLarge, an encoding error) fails that
// request alone. Across processes, conflicts are retried as before.

// saveGroups holds the queue of saves of each busy store key.
type saveGroups struct {
	mu     sync.Mutex
	groups map[string]*saveGroup
}

type saveGroup struct {
	waiting []*saveReq
	running bool    // a leader is writing or about to
	last    *loaded // the record the last combined write stored, while saves keep coming
}

// saveReq is one request's save, queued in a group.
type saveReq struct {
	st    *requestState
	s     *Session
	ctx   context.Context
	lead  chan struct{} // this request leads the next batch
	done  chan struct{} // closed once res is set
	taken bool          // in a batch (guarded by saveGroups.mu)
	res   saveResult
}

type resultKind int

const (
	resDone      resultKind = iota // the leader committed it itself
	resSaved                       // saved by a combined write: install state
	resDestroyed                   // the record is gone: destroyed elsewhere
	resRedirect                    // the ID was renewed: save to successor
)

type saveResult struct {
	kind      resultKind
	err       error
	state     *loaded // resSaved: this request's copy of the stored state
	ops       int     // resSaved: how many of the request's changes it holds
	successor string  // resRedirect
}

// commitJoined saves a stored session's changes through its key's group.
// The caller holds s.mu; it is released while the request waits.
func (st *requestState) commitJoined(ctx context.Context, s *Session) error {
	m := st.m
	key := s.key
	req := &saveReq{st: st, s: s, ctx: ctx, lead: make(chan struct{}, 1), done: make(chan struct{})}
	m.groups.enqueue(key, req)
	s.mu.Unlock()
	err := m.await(ctx, key, req)
	s.mu.Lock()
	if err != nil {
		return err
	}
	return st.install(ctx, s, req.res)
}

func (g *saveGroups) enqueue(key string, r *saveReq) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups == nil {
		g.groups = make(map[string]*saveGroup)
	}
	grp := g.groups[key]
	if grp == nil {
		grp = &saveGroup{}
		g.groups[key] = grp
	}
	grp.waiting = append(grp.waiting, r)
	if !grp.running {
		grp.running = true
		r.lead <- struct{}{}
	}
}

// await waits for req's outcome, leading a batch when its turn comes.
func (m *Manager) await(ctx context.Context, key string, req *saveReq) error {
	for {
		select {
		case <-req.done:
			return req.res.err
		case <-req.lead:
			m.lead(key, req)
		case <-ctx.Done():
			if m.groups.withdraw(key, req) {
				return fmt.Errorf("session: save: waiting for another save of this session: %w", ctx.Err())
			}
			// Already in a batch: its outcome is at most one write away,
			// but the deadline has passed; the change may still be saved.
			return fmt.Errorf("session: save: %w", ctx.Err())
		}
	}
}

// withdraw removes a request that gave up waiting. It reports false when
// the request is already in a batch.
func (g *saveGroups) withdraw(key string, r *saveReq) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.taken {
		return false
	}
	grp := g.groups[key]
	for i, w := range grp.waiting {
		if w == r {
			grp.waiting = append(grp.waiting[:i], grp.waiting[i+1:]...)
			break
		}
	}
	select {
	case <-r.lead: // it was to lead: pass the lead on
		g.handOffLocked(key, grp)
	default:
	}
	return true
}

func (g *saveGroups) hasWaiting(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	grp := g.groups[key]
	return grp != nil && len(grp.waiting) > 0
}

// handOffLocked lets the first waiting request lead, or ends the group.
func (g *saveGroups) handOffLocked(key string, grp *saveGroup) {
	if len(grp.waiting) > 0 {
		grp.waiting[0].lead <- struct{}{}
		return
	}
	grp.running, grp.last = false, nil
	delete(g.groups, key)
}

// lead takes every waiting request of key's group (leader first) and saves
// them as one batch, then passes the lead on.
func (m *Manager) lead(key string, leader *saveReq) {
	g := &m.groups
	g.mu.Lock()
	grp := g.groups[key]
	batch := grp.waiting
	grp.waiting = nil
	for _, r := range batch {
		r.taken = true
	}
	last := grp.last
	g.mu.Unlock()

	requeue, last := m.saveBatch(leader.ctx, key, batch, last)

	g.mu.Lock()
	grp.last = last
	if len(requeue) > 0 {
		for _, r := range requeue {
			r.taken = false
		}
		grp.waiting = append(requeue, grp.waiting...)
	}
	g.handOffLocked(key, grp)
	g.mu.Unlock()
}

func finish(r *saveReq, res saveResult) {
	r.res = res
	close(r.done)
}

// saveBatch writes batch (batch[0] is the leader, whose ctx is used). It
// returns the requests to queue again (when the leader's own context ended
// before their write) and the state to start the next batch from.
func (m *Manager) saveBatch(ctx context.Context, key string, batch []*saveReq, last *loaded) (requeue []*saveReq, next *loaded) {
	leader := batch[0]
	t, err := leader.st.take(ctx, key)
	if err != nil {
		finish(leader, saveResult{err: err})
		return batch[1:], nil
	}
	defer t.release()
	if len(batch) == 1 && last == nil {
		// Alone: the request's own compare-and-set, on its own session.
		s := leader.s
		s.mu.Lock()
		err := leader.st.commitChanges(ctx, s, t)
		if err == nil && !s.meta.retired && s.key == key && m.groups.hasWaiting(key) {
			// Others queued meanwhile: they start from what was just
			// stored instead of their own stale copies.
			next = &loaded{values: maps.Clone(s.values), rec: s.rec, meta: s.meta, data: s.loadedData}
		}
		s.mu.Unlock()
		finish(leader, saveResult{kind: resDone, err: err})
		return nil, next
	}
	base, counts, from := last, make([]int, len(batch)), 0
	if base == nil {
		s0 := batch[0].s
		s0.mu.Lock()
		base = &loaded{values: maps.Clone(s0.values), rec: s0.rec, meta: s0.meta}
		counts[0] = len(s0.ops)
		s0.mu.Unlock()
		from = 1
	}
	m.replayBatch(base, batch, counts, from)
	unconditional := IsUnconditional(m.Store)
	for attempt := 0; ; attempt++ {
		now := m.Now()
		data, err := leader.st.encodeChecked(key, base.values, base.meta)
		if err != nil {
			return m.saveOneByOne(ctx, key, batch, t)
		}
		rec := Record{Data: data, Expiry: m.expiry(base.rec.Created, now), Version: base.rec.Version, Owner: base.rec.Owner, Created: base.rec.Created}
		v, err := m.storeSave(ctx, key, rec)
		if err == nil {
			return nil, m.distribute(batch, base, rec, v, now, counts, nil)
		}
		if ctx.Err() != nil {
			finish(leader, saveResult{err: fmt.Errorf("session: save: %w", err)})
			return batch[1:], nil
		}
		if !errors.Is(err, ErrConflict) || unconditional || attempt >= m.MaxRetries {
			for _, r := range batch {
				finish(r, saveResult{err: fmt.Errorf("session: save: %w", err)})
			}
			return nil, nil
		}
		m.event(ctx, EventConflict)
		if err := t.pause(ctx, attempt); err != nil {
			finish(leader, saveResult{err: err})
			return batch[1:], nil
		}
		m.event(ctx, EventRetry)
		fresh, done := m.reloadBatch(ctx, key, batch)
		if done {
			return nil, nil
		}
		base = fresh
		m.replayBatch(base, batch, counts, 0)
	}
}

// replayBatch applies the changes of batch[from:] to base, in order,
// recording how many changes of each request it applied.
func (m *Manager) replayBatch(base *loaded, batch []*saveReq, counts []int, from int) {
	for i := from; i < len(batch); i++ {
		counts[i] = batch[i].s.replaySnapshot(base.draft())
	}
}

// replaySnapshot applies the request's changes made so far to d without
// holding the session's lock, and returns how many it applied.
func (s *Session) replaySnapshot(d draft) int {
	s.mu.Lock()
	ops := s.ops[:len(s.ops):len(s.ops)]
	s.mu.Unlock()
	for _, o := range ops {
		o(d)
	}
	return len(ops)
}

// reloadBatch reads key again for a batch. It reports done when the batch
// has its outcome already: the record is gone or retired by Renew (each
// request then follows on its own), or it could not be read.
func (m *Manager) reloadBatch(ctx context.Context, key string, batch []*saveReq) (*loaded, bool) {
	rec, err := m.storeLoad(ctx, key)
	var values map[string]any
	var mt meta
	if err == nil {
		values, mt, err = m.decodeSession(key, rec.Data)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		for _, r := range batch {
			finish(r, saveResult{kind: resDestroyed})
		}
		return nil, true
	case err != nil:
		for _, r := range batch {
			finish(r, saveResult{err: fmt.Errorf("session: reload after conflict: %w", err)})
		}
		return nil, true
	case mt.retired:
		for _, r := range batch {
			finish(r, saveResult{kind: resRedirect, successor: mt.successor})
		}
		return nil, true
	}
	l := &loaded{values: values, rec: rec, meta: mt, data: rec.Data}
	l.rec.Data = nil
	if l.rec.Created.IsZero() {
		// Written by another system (PHP keeps no creation time).
		l.rec.Created = batch[0].s.createdAtLoad()
		if l.rec.Created.IsZero() {
			l.rec.Created = m.Now()
		}
	}
	return l, false
}

// createdAtLoad returns the creation time the session had when loaded.
func (s *Session) createdAtLoad() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.Created
}

// saveOneByOne is the batch path when the combined changes cannot be
// stored: starting from the stored record, each request's changes are kept
// only if the session can still be stored with them, so that a change
// that cannot be stored fails its own request alone.
func (m *Manager) saveOneByOne(ctx context.Context, key string, batch []*saveReq, t *turn) ([]*saveReq, *loaded) {
	leader := batch[0]
	for attempt := 0; ; attempt++ {
		fresh, done := m.reloadBatch(ctx, key, batch)
		if done {
			return nil, nil
		}
		counts := make([]int, len(batch))
		failed := make([]error, len(batch))
		for i, r := range batch {
			before := &loaded{values: maps.Clone(fresh.values), rec: fresh.rec, meta: fresh.meta}
			counts[i] = r.s.replaySnapshot(fresh.draft())
			if _, err := r.st.encodeChecked(key, fresh.values, fresh.meta); err != nil {
				failed[i] = err
				fresh.values, fresh.rec, fresh.meta = before.values, before.rec, before.meta
			}
		}
		now := m.Now()
		data, err := leader.st.encodeChecked(key, fresh.values, fresh.meta)
		if err == nil {
			rec := Record{Data: data, Expiry: m.expiry(fresh.rec.Created, now), Version: fresh.rec.Version, Owner: fresh.rec.Owner, Created: fresh.rec.Created}
			var v uint64
			if v, err = m.storeSave(ctx, key, rec); err == nil {
				return nil, m.distribute(batch, fresh, rec, v, now, counts, failed)
			}
		}
		if !errors.Is(err, ErrConflict) || attempt >= m.MaxRetries {
			for _, r := range batch {
				finish(r, saveResult{err: fmt.Errorf("session: save: %w", err)})
			}
			return nil, nil
		}
		if err := t.pause(ctx, attempt); err != nil {
			finish(leader, saveResult{err: err})
			return batch[1:], nil
		}
	}
}

// distribute hands each request of a successful combined write its own
// copy of the stored state, and returns the group's copy.
func (m *Manager) distribute(batch []*saveReq, base *loaded, rec Record, v uint64, now time.Time, counts []int, failed []error) *loaded {
	saved := rec
	saved.Data = nil
	saved.Version, saved.Modified = v, now
	for i, r := range batch {
		if failed != nil && failed[i] != nil {
			finish(r, saveResult{err: failed[i]})
			continue
		}
		own := &loaded{values: maps.Clone(base.values), rec: saved, meta: base.meta, data: rec.Data}
		finish(r, saveResult{kind: resSaved, state: own, ops: counts[i]})
	}
	base.rec, base.data = saved, rec.Data
	return base
}

// install takes the outcome of a combined save into the request's session.
// The caller holds s.mu.
func (st *requestState) install(ctx context.Context, s *Session, res saveResult) error {
	switch res.kind {
	case resDone:
		return nil
	case resDestroyed:
		st.m.Logger.Info("session: destroyed by another request; changes dropped")
		s.destroyed, s.ops, s.values, s.isNew, s.meta, s.renew = true, nil, newValues(), true, meta{}, nil
		if st.cookieID != "" {
			st.revoke()
		}
		return nil
	case resRedirect:
		s.meta.retired, s.meta.successor = true, res.successor
		return st.commitRedirect(ctx, s)
	}
	if s.destroyed || len(s.ops) < res.ops {
		return nil // destroyed meanwhile by this request: a later commit handles it
	}
	own := res.state
	s.ops = s.ops[res.ops:]
	s.replayOn(own.draft(), 0) // changes made while the save ran
	s.values, s.meta, s.rec, s.loadedData = own.values, own.meta, own.rec, own.data
	s.isNew, s.touched = false, true
	if s.cookieChanged || s.persist() {
		st.issue(s.id, s.rec.Expiry, s.persist())
		s.cookieChanged = false
	}
	return nil
}
