package store

import (
	"bytes"
	"errors"
	"github.com/gsmgate/gsmgate/gateway/model"
	"time"
)

// Lane is where a queued part waits in the outbox (idx_lane). Lower lanes
// are served first; the dispatcher never takes a part of a later lane
// while one of an earlier lane is due and may go on that modem.
type Lane uint8

// The lanes.
const (
	// LaneUrgent holds messages sent with an explicit priority above 0.
	LaneUrgent Lane = 0
	// LaneConversation holds sends to one recipient (replies, compose,
	// API sends to one number): a person waits for them.
	LaneConversation Lane = 1
	// LaneBulk holds the messages of sends to several recipients, one
	// queue per batch, taken in turn.
	LaneBulk Lane = 2
	// LaneLow holds messages sent with a priority below 0, one queue per
	// batch like LaneBulk.
	LaneLow Lane = 3
)

// Lanes lists every lane in serving order.
var Lanes = []Lane{LaneUrgent, LaneConversation, LaneBulk, LaneLow}

// String names the lane.
func (l Lane) String() string {
	switch l {
	case LaneUrgent:
		return "urgent"
	case LaneConversation:
		return "conversation"
	case LaneBulk:
		return "bulk"
	case LaneLow:
		return "low"
	}
	return "unknown"
}

// Grouped reports whether the lane keeps one queue per batch (taken in
// turn) rather than one queue by due time.
func (l Lane) Grouped() bool { return l == LaneBulk || l == LaneLow }

// LaneOf is the lane m's parts wait in: an explicit priority decides, then
// whether it is one message of a bulk send.
func LaneOf(m *model.Message) Lane {
	switch {
	case m.Priority > 0:
		return LaneUrgent
	case m.Priority < 0:
		return LaneLow
	case m.Marketing:
		return LaneBulk
	}
	return LaneConversation
}

// laneGroup is m's queue within its lane.
func laneGroup(m *model.Message) model.ID {
	if !LaneOf(m).Grouped() {
		return 0
	}
	if m.BatchID != 0 {
		return m.BatchID
	}
	return m.ID
}

func laneKey(m *model.Message, p *model.Part) []byte {
	b := make([]byte, 0, 1+8+8+9)
	b = append(b, byte(LaneOf(m)))
	b = append(b, u64(uint64(laneGroup(m)))...)
	b = append(b, tns(p.NextAttempt)...)
	b = append(b, u64(uint64(m.ID))...)
	return append(b, byte(p.Seq))
}

// Claim says what Tx.Claim may take.
type Claim struct {
	// Modem is the modem the part is claimed for.
	Modem string
	// Accept, when set, may refuse a candidate (the dispatcher's rules).
	Accept func(m *model.Message, p *model.Part) bool
	// Lanes are looked at in this order (nil: Lanes).
	Lanes []Lane
	// After is, per grouped lane, the group served last: the walk starts
	// at the next group and wraps around (round robin between bulks).
	After map[Lane]model.ID
	// Only, when set, restricts the claim to this message's parts.
	Only model.ID
}

// Claimed is what Tx.Claim took.
type Claimed struct {
	Due
	Lane  Lane
	Group model.ID
}

// groupScan bounds how many due parts of one bulk group are offered to
// Accept before the walk moves to the next group: parts refused there wait
// for a busy modem, and one group must not cost a scan of its thousands.
const groupScan = 64

// tailScan bounds how many of a bulk send's unfiled messages (unfiled.go) one
// walk of claimIn offers.
const tailScan = 16

// Claim takes the first part, by lane then (within a grouped lane) group in
// turn then due time, that is due by now and that c.Accept agrees to; it
// marks it submitting on c.Modem with one more attempt. Parts of messages
// whose ExpiresAt passed are marked expired on the way. ok is false when
// nothing may be taken.
func (tx *Tx) Claim(c Claim) (Claimed, bool, error) {
	lanes := c.Lanes
	if lanes == nil {
		lanes = Lanes
	}
	if c.Only != 0 {
		m, err := tx.Message(c.Only)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return Claimed{}, false, nil
			}
			return Claimed{}, false, err
		}
		// (an unfiled message has no idx_lane key of its own yet)
		if err := tx.fileIfUnfiled(&m); err != nil {
			return Claimed{}, false, err
		}
		lane, group := LaneOf(&m), laneGroup(&m)
		d, ok, err := tx.claimIn(c, k([]byte{byte(lane)}, u64(uint64(group))), 0)
		return Claimed{d, lane, group}, ok, err
	}
	// Messages expired on the way are reported whatever is claimed.
	var expired []Expired
	for _, lane := range lanes {
		var d Due
		var group model.ID
		var ok bool
		var err error
		if lane.Grouped() {
			d, group, ok, err = tx.claimRoundRobin(c, lane)
		} else {
			d, ok, err = tx.claimIn(c, k([]byte{byte(lane)}, u64(0)), 0)
		}
		expired = append(expired, d.Expired...)
		if err != nil {
			return Claimed{}, false, err
		}
		if ok {
			d.Expired = expired
			return Claimed{d, lane, group}, true, nil
		}
	}
	return Claimed{Due: Due{Expired: expired}}, false, nil
}

// claimRoundRobin walks the groups of a grouped lane starting after
// c.After[lane], wrapping once, each with one Seek.
func (tx *Tx) claimRoundRobin(c Claim, lane Lane) (Due, model.ID, bool, error) {
	limit := tns(tx.Now())
	start := uint64(c.After[lane]) + 1
	seek := k([]byte{byte(lane)}, u64(start))
	wrapped := start == 1
	var expired []Expired
	none := func() (Due, model.ID, bool, error) { return Due{Expired: expired}, 0, false, nil }
	for {
		// A fresh cursor each time: claimIn may have changed the bucket.
		key, _ := tx.b(bIdxLane).Cursor().Seek(seek)
		if key == nil || key[0] != byte(lane) {
			if wrapped {
				return none()
			}
			wrapped = true
			seek = k([]byte{byte(lane)}, u64(1))
			continue
		}
		group := getU64(key[1:9])
		if wrapped && start > 1 && group >= start {
			return none() // went all the way round
		}
		if bytes.Compare(key[9:17], limit) <= 0 {
			d, ok, err := tx.claimIn(c, clone(key[:9]), groupScan)
			expired = append(expired, d.Expired...)
			if err != nil {
				return Due{}, 0, false, err
			}
			if ok {
				d.Expired = expired
				return d, model.ID(group), true, nil
			}
		}
		if group == ^uint64(0) {
			if wrapped {
				return none()
			}
			wrapped, seek = true, k([]byte{byte(lane)}, u64(1))
			continue
		}
		seek = k([]byte{byte(lane)}, u64(group+1))
	}
}

// claimIn walks one queue (prefix: lane and group) in due order up to now,
// offering at most max candidates (0: all) to c.Accept, and claims the
// first accepted.
func (tx *Tx) claimIn(c Claim, prefix []byte, max int) (Due, bool, error) {
	now := tx.Now()
	limit := tns(now)
	type cand struct {
		id  model.ID
		seq int
	}
	// Collect a window first (changing the bucket under a cursor skips
	// keys), then act; go on past a window whose parts were all refused.
	var from []byte
	var expired []Expired
	offered := 0
	for {
		var cands []cand
		var last []byte
		cur := tx.b(bIdxLane).Cursor()
		key, _ := cur.Seek(prefix)
		if from != nil {
			key, _ = cur.Seek(from)
		}
		for ; key != nil && bytes.HasPrefix(key, prefix) && bytes.Compare(key[9:17], limit) <= 0; key, _ = cur.Next() {
			last = key
			if isTailKey(key) && c.Only == 0 {
				// The send's unfiled messages, in order (filed
				// as the claim takes one: UpdatePart).
				// Each is read to be offered: a few at a time.
				// A fresh message is refused only when the modem
				// may not take bulk now, and then the others are
				// refused too.
				limit := min(256-len(cands), tailScan)
				ids, err := tx.tailIDs(key, limit)
				if err != nil {
					return Due{}, false, err
				}
				for _, id := range ids {
					cands = append(cands, cand{id, 1})
				}
				if len(cands) >= 256 {
					break
				}
				continue
			}
			id := model.ID(getU64(key[17:25]))
			if c.Only != 0 && (id != c.Only || isTailKey(key)) {
				continue
			}
			cands = append(cands, cand{id, int(key[25])})
			if len(cands) >= 256 {
				break
			}
		}
		for _, cd := range cands {
			m, err := tx.Message(cd.id)
			if err != nil {
				return Due{}, false, err
			}
			if !m.ExpiresAt.IsZero() && !now.Before(m.ExpiresAt) {
				em, err := tx.expireQueued(cd.id)
				if err != nil {
					return Due{}, false, err
				}
				if em.State != m.State {
					expired = append(expired, Expired{Previous: m.State, Message: em})
				}
				continue
			}
			p, err := tx.Part(cd.id, cd.seq)
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					continue
				}
				return Due{}, false, err
			}
			if p.State != model.StateQueued {
				continue // expired above with its message
			}
			offered++
			if c.Accept != nil && !c.Accept(&m, &p) {
				if max > 0 && offered >= max {
					return Due{Expired: expired}, false, nil
				}
				continue
			}
			var claimed model.Part
			m, err = tx.UpdatePart(cd.id, cd.seq, func(p *model.Part) error {
				p.State, p.Modem, p.MR = model.StateSubmitting, c.Modem, -1
				p.StoreSend, p.SlotStorage, p.SlotIndex = false, "", 0
				p.Attempts++
				claimed = *p
				return nil
			})
			if err != nil {
				return Due{}, false, err
			}
			return Due{Message: m, Part: claimed, Expired: expired}, true, nil
		}
		if len(cands) < 256 {
			return Due{Expired: expired}, false, nil
		}
		from = append(clone(last), 0)
	}
}

func (tx *Tx) expireQueued(id model.ID) (model.Message, error) {
	return tx.UpdateMessage(id, func(_ *model.Message, parts []model.Part) error {
		for i := range parts {
			if parts[i].State == model.StateQueued {
				parts[i].State, parts[i].Error = model.StateExpired, "expired before it could be sent"
			}
		}
		return nil
	})
}

// NextDueIn is the earliest NextAttempt among the queued parts of lanes
// (ok false when they hold none): with bulk lanes held (quiet hours), the
// dispatcher's timer looks only at the others.
func (tx *Tx) NextDueIn(lanes []Lane) (time.Time, bool) {
	var best time.Time
	found := false
	cur := tx.b(bIdxLane).Cursor()
	for _, lane := range lanes {
		if !lane.Grouped() {
			key, _ := cur.Seek(k([]byte{byte(lane)}, u64(0)))
			if key != nil && key[0] == byte(lane) && getU64(key[1:9]) == 0 {
				t := time.Unix(0, int64(getU64(key[9:17]))).UTC()
				if !found || t.Before(best) {
					best, found = t, true
				}
			}
			continue
		}
		// One Seek per group: its first key is its earliest part.
		seek := k([]byte{byte(lane)}, u64(1))
		for {
			key, _ := cur.Seek(seek)
			if key == nil || key[0] != byte(lane) {
				break
			}
			t := time.Unix(0, int64(getU64(key[9:17]))).UTC()
			if !found || t.Before(best) {
				best, found = t, true
			}
			g := getU64(key[1:9])
			if g == ^uint64(0) {
				break
			}
			seek = k([]byte{byte(lane)}, u64(g+1))
		}
	}
	return best, found
}

// LaneDepth counts the queued parts of one lane (the admin's view and the
// estimate).
func (tx *Tx) LaneDepth(lane Lane) int {
	n := 0
	fwdScan(tx.b(bIdxLane), []byte{byte(lane)}, nil, func(key, _ []byte) bool {
		if isTailKey(key) {
			n += tx.tailParts(key)
		} else {
			n++
		}
		return true
	})
	return n
}

// AddModemSends counts n more parts sent by modem on day (the caller's
// local date, "2006-01-02").
func (tx *Tx) AddModemSends(modem, day string, n int) error {
	key := k(str(modem), []byte(day))
	b := tx.b(bModemSends)
	var cur uint64
	if v := b.Get(key); len(v) == 8 {
		cur = getU64(v)
	}
	return b.Put(key, u64(cur+uint64(n)))
}

// ModemSends is how many parts modem sent on day.
func (tx *Tx) ModemSends(modem, day string) int {
	if v := tx.b(bModemSends).Get(k(str(modem), []byte(day))); len(v) == 8 {
		return int(getU64(v))
	}
	return 0
}

// SetConversationModem records that the conversation with number last
// went through modem (sticky SIM routing). A number with no conversation
// is left alone.
func (tx *Tx) SetConversationModem(number, modem string) error {
	c, err := tx.Conversation(number)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if c.Modem == modem {
		return nil
	}
	c.Modem = modem
	return putJSON(tx.b(bConversations), []byte(number), &c)
}
