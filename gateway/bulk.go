package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
)

// BulkRequest is a bulk send: one template to the recipients of several
// sources (their union, de-duplicated by number). Every message of it is a
// marketing message (sorting) in the bulk lane, skipping opted-out numbers.
type BulkRequest struct {
	UserID model.ID
	// Sources, any combination.
	GroupIDs  []string
	SearchIDs []string
	// Query is an ad hoc contact search (nil: none).
	Query *model.ContactQuery
	// Numbers are typed, pasted, selected or from an uploaded file.
	Numbers []string
	// Text is the template; TemplateID names a saved one instead (its
	// fallbacks apply).
	Text       string
	TemplateID string
	// Campaign names the send (default: the template's name or "bulk").
	Campaign     string
	Priority     int
	StatusReport bool
	SendAt       time.Time
	ExpiresAt    time.Time
}

// BulkRecipient is one recipient of a preview, with its expanded text.
type BulkRecipient struct {
	Number   string `json:"number"`
	Name     string `json:"name,omitempty"`
	Text     string `json:"text"`
	Parts    int    `json:"parts"`
	Encoding string `json:"encoding"`
}

// BulkSkip is a recipient a bulk send leaves out.
type BulkSkip struct {
	// Value is the number as given (or the E.164 number).
	Value  string `json:"value"`
	Reason string `json:"reason"`
	// Missing lists the placeholders the recipient has no value for.
	Missing []string `json:"missing,omitempty"`
}

// BulkPreview is what a bulk send would do, before it is confirmed.
type BulkPreview struct {
	Valid      []BulkRecipient `json:"valid"`
	Invalid    []BulkSkip      `json:"invalid"`
	Duplicates []BulkSkip      `json:"duplicates"`
	OptedOut   []BulkSkip      `json:"opted_out"`
	// Missing are the recipients lacking a placeholder's value with no
	// fallback: not sent.
	Missing []BulkSkip `json:"missing"`
	// ForcesUnicode lists the recipients whose text needs UCS-2 while the
	// template's own text does not (a name with a character outside GSM
	// 7-bit); AddsPart those whose text needs more parts than the fewest.
	ForcesUnicode []string `json:"forces_unicode"`
	AddsPart      []string `json:"adds_part"`
	PartsMin      int      `json:"parts_min"`
	PartsMax      int      `json:"parts_max"`
	// TotalParts is the SMS count: parts summed over valid recipients.
	TotalParts int      `json:"total_parts"`
	Estimate   Estimate `json:"estimate"`
}

// bulkPlan is a resolved bulk send.
type bulkPlan struct {
	preview  BulkPreview
	campaign string
	tmplText string
	addrs    []pdu.Address
	counts   []pdu.Count
	// plans are the recipients' texts segmented, when the plan is for
	// sending (counted once: segmenting again at the insert cost a
	// 10,000-recipient send 10,000 more plans).
	plans []*pdu.SubmitPlan
}

// PreviewBulk resolves and expands a bulk send without sending anything.
func (s *Service) PreviewBulk(ctx context.Context, req BulkRequest) (*BulkPreview, error) {
	plan, err := s.planBulk(ctx, req, false)
	if err != nil {
		return nil, err
	}
	return &plan.preview, nil
}

// BulkResult is what SendBulk accepted.
type BulkResult struct {
	BatchID  model.ID
	Campaign string
	Preview  BulkPreview
}

// SendBulk accepts a bulk send: the campaign record and every valid
// recipient's message are committed in one transaction; the recipients
// PreviewBulk lists as invalid, duplicate, opted out or missing a field are
// recorded in the campaign as skipped.
func (s *Service) SendBulk(ctx context.Context, req BulkRequest) (*BulkResult, error) {
	plan, err := s.planBulk(ctx, req, true)
	if err != nil {
		return nil, err
	}
	p := &plan.preview
	if len(p.Valid) == 0 {
		return nil, invalid("recipients", fmt.Sprintf("no recipient can be sent to (%d invalid, %d duplicate, %d opted out, %d missing a field)",
			len(p.Invalid), len(p.Duplicates), len(p.OptedOut), len(p.Missing)))
	}
	now := s.clock.Now()
	due := now
	if req.SendAt.After(now) {
		due = req.SendAt
	}
	var validity pdu.Validity
	if !req.ExpiresAt.IsZero() {
		if !req.ExpiresAt.After(due) {
			return nil, invalid("expires_at", "expires before it could be sent")
		}
		validity = pdu.Validity{Format: pdu.ValidityRelative, Relative: req.ExpiresAt.Sub(due)}
	}
	var skipped []model.Skipped
	for _, list := range [][]BulkSkip{p.Invalid, p.Duplicates, p.OptedOut, p.Missing} {
		for _, sk := range list {
			skipped = append(skipped, model.Skipped{Number: sk.Value, Reason: sk.Reason})
		}
	}
	var batch model.ID
	err = s.st.Batch(func(tx *store.Tx) error {
		u, err := tx.User(req.UserID)
		if err != nil || u.Disabled {
			return ErrUnauthorized
		}
		batch = tx.NewID()
		c := model.Campaign{BatchID: batch, Name: plan.campaign, UserID: req.UserID, Text: plan.tmplText,
			Accepted: len(p.Valid), Skipped: skipped, CreatedAt: now}
		if err := tx.PutCampaign(&c); err != nil {
			return err
		}
		o := outgoing{batch: batch, user: req.UserID, marketing: true, priority: req.Priority, campaign: plan.campaign,
			report: req.StatusReport, sendAt: req.SendAt, expiresAt: req.ExpiresAt, due: due, validity: validity, now: now}
		for i, r := range p.Valid {
			// An opt-out that arrived since the preview still wins.
			if tx.OptedOut(r.Number) {
				continue
			}
			o.plan = plan.plans[i]
			if _, err := s.insertOutgoing(tx, o, r.Number, plan.addrs[i], r.Text, plan.counts[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return nil, err
		}
		return nil, fmt.Errorf("gateway: bulk send: %w", err)
	}
	s.log.Info("bulk send accepted", "batch", batch, "campaign", plan.campaign, "user", req.UserID,
		"recipients", len(p.Valid), "skipped", len(skipped), "parts", p.TotalParts)
	if !due.After(now) {
		s.WakeOutbox()
	}
	return &BulkResult{BatchID: batch, Campaign: plan.campaign, Preview: *p}, nil
}

// planBulk resolves the sources, expands the template per recipient and
// counts it (segments it, for sending).
func (s *Service) planBulk(ctx context.Context, req BulkRequest, sending bool) (*bulkPlan, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	plan := &bulkPlan{campaign: req.Campaign, tmplText: req.Text}
	var fallbacks map[string]string
	// Group members and contacts are stored in E.164 already: only typed
	// numbers are normalised (libphonenumber is most of a preview's cost).
	type source struct {
		value   string
		contact *model.Contact
		e164    bool
	}
	var sources []source
	err := s.readShared(req.UserID, func(tx *store.Tx) error {
		if req.TemplateID != "" {
			t, err := tx.Template(req.TemplateID)
			if err != nil {
				return invalid("template_id", "no template "+req.TemplateID)
			}
			plan.tmplText, fallbacks = t.Text, t.Fallbacks
			if plan.campaign == "" {
				plan.campaign = t.Name
			}
		}
		for _, id := range req.GroupIDs {
			g, err := tx.Group(id)
			if err != nil {
				return invalid("group_ids", "no group "+id)
			}
			for _, n := range g.Members {
				sources = append(sources, source{value: n, e164: true})
			}
		}
		var queries []model.ContactQuery
		for _, id := range req.SearchIDs {
			ss, err := tx.SavedSearch(id)
			if err != nil {
				return invalid("search_ids", "no saved search "+id)
			}
			queries = append(queries, ss.Query)
		}
		if req.Query != nil {
			queries = append(queries, *req.Query)
		}
		if len(queries) > 0 {
			if err := tx.Contacts(func(c model.Contact) bool {
				for _, q := range queries {
					if MatchContact(&c, q) {
						sources = append(sources, source{value: c.Number, contact: &c, e164: true})
						break
					}
				}
				return true
			}); err != nil {
				return err
			}
		}
		for _, n := range req.Numbers {
			sources = append(sources, source{value: n})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if plan.campaign == "" {
		plan.campaign = "bulk"
	}
	if len(plan.campaign) > 200 {
		return nil, invalid("campaign", "longer than 200 characters")
	}
	if plan.tmplText == "" {
		return nil, invalid("text", "text is empty")
	}
	if len(sources) == 0 {
		return nil, invalid("recipients", "no recipient: give a group, a saved search, a query or numbers")
	}
	if len(sources) > s.opt.MaxRecipients {
		return nil, invalid("recipients", fmt.Sprintf("%d recipients; at most %d in one send", len(sources), s.opt.MaxRecipients))
	}
	if req.Priority < -128 || req.Priority > 127 {
		return nil, invalid("priority", "must be between -128 and 127")
	}
	tmpl, err := ParseTemplate(plan.tmplText)
	if err != nil {
		return nil, invalid("text", err.Error())
	}
	literal := pdu.CountText(tmpl.Literal(), s.opt.Segment)
	p := &plan.preview
	p.Valid, p.Invalid, p.Duplicates, p.OptedOut, p.Missing = []BulkRecipient{}, []BulkSkip{}, []BulkSkip{}, []BulkSkip{}, []BulkSkip{}
	p.ForcesUnicode, p.AddsPart = []string{}, []string{}
	seen := make(map[string]bool, len(sources))
	p.Valid = make([]BulkRecipient, 0, len(sources))
	plan.addrs = make([]pdu.Address, 0, len(sources))
	plan.counts = make([]pdu.Count, 0, len(sources))
	err = s.st.View(func(tx *store.Tx) error {
		for _, src := range sources {
			number := src.value
			if !src.e164 {
				var err error
				if number, err = s.NormalizeNumber(src.value); err != nil {
					p.Invalid = append(p.Invalid, BulkSkip{Value: src.value, Reason: err.Error()})
					continue
				}
			}
			addr, err := pdu.ParseAddress(number)
			if err != nil {
				p.Invalid = append(p.Invalid, BulkSkip{Value: src.value, Reason: err.Error()})
				continue
			}
			if seen[number] {
				p.Duplicates = append(p.Duplicates, BulkSkip{Value: number, Reason: "listed more than once"})
				continue
			}
			seen[number] = true
			if tx.OptedOut(number) {
				p.OptedOut = append(p.OptedOut, BulkSkip{Value: number, Reason: ReasonOptedOut})
				continue
			}
			c := src.contact
			if c == nil && len(tmpl.names) > 0 && !(len(tmpl.names) == 1 && tmpl.names[0] == "number") {
				if got, err := tx.Contact(number); err == nil {
					c = &got
				}
			}
			text, missing := tmpl.Expand(ContactFields(number, c), fallbacks)
			if len(missing) > 0 {
				p.Missing = append(p.Missing, BulkSkip{Value: number, Reason: "no value for " + placeholderList(missing), Missing: missing})
				continue
			}
			var count pdu.Count
			var sp *pdu.SubmitPlan
			var perr error
			if sending {
				if sp, perr = pdu.PlanSubmit(text, s.opt.Segment); perr == nil {
					count = sp.Count()
				}
			}
			if sp == nil {
				count = pdu.CountText(text, s.opt.Segment)
			}
			if count.Parts > s.opt.MaxParts {
				p.Invalid = append(p.Invalid, BulkSkip{Value: number, Reason: fmt.Sprintf("the text needs %d SMS parts; at most %d", count.Parts, s.opt.MaxParts)})
				continue
			}
			if perr != nil {
				p.Invalid = append(p.Invalid, BulkSkip{Value: number, Reason: perr.Error()})
				continue
			}
			name := ""
			if c != nil {
				name = c.Name
			}
			p.Valid = append(p.Valid, BulkRecipient{Number: number, Name: name, Text: text, Parts: count.Parts, Encoding: count.Encoding.String()})
			plan.addrs = append(plan.addrs, addr)
			plan.counts = append(plan.counts, count)
			if sending {
				plan.plans = append(plan.plans, sp)
			}
			if count.Encoding != literal.Encoding && literal.Encoding == pdu.GSM7 {
				p.ForcesUnicode = append(p.ForcesUnicode, number)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: bulk plan: %w", err)
	}
	for i, r := range p.Valid {
		if i == 0 || r.Parts < p.PartsMin {
			p.PartsMin = r.Parts
		}
		p.PartsMax = max(p.PartsMax, r.Parts)
		p.TotalParts += r.Parts
	}
	for _, r := range p.Valid {
		if r.Parts > p.PartsMin {
			p.AddsPart = append(p.AddsPart, r.Number)
		}
	}
	p.Estimate = s.EstimateBulk(ctx, p.TotalParts)
	return plan, nil
}

func placeholderList(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += "{" + n + "}"
	}
	return out
}

// EstimateBulk estimates how long parts bulk parts take from now on the
// modems that are up (the policy's rate limits, quiet hours and daily caps
// included). Without a modem up it assumes one.
func (s *Service) EstimateBulk(ctx context.Context, parts int) Estimate {
	var ids []string
	for _, st := range s.Modems(ctx) {
		if st.State == string(modem.StateReady) {
			ids = append(ids, st.IMEI)
		}
	}
	if len(ids) == 0 {
		ids = []string{""}
	}
	now := s.clock.Now()
	day := s.opt.Policy.Day(now)
	sent := map[string]int{}
	_ = s.st.View(func(tx *store.Tx) error {
		for _, id := range ids {
			sent[id] = tx.ModemSends(id, day)
		}
		return nil
	})
	return s.opt.Policy.EstimateSend(parts, ids, sent, now)
}

// CampaignProgress is where a bulk send stands.
type CampaignProgress struct {
	Campaign model.Campaign `json:"campaign"`
	// Counts by message state (queued, submitting, sent, delivered,
	// failed, unknown, cancelled, expired).
	Counts map[model.State]int `json:"counts"`
	Total  int                 `json:"total"`
	// Done is the share of messages in a final state or sent, 0..1.
	Done float64 `json:"done"`
	// Failed are the failed messages (for a link to Send Failures).
	Failed []model.ID `json:"failed"`
}

// Campaign reads a bulk send's progress. Its sender and admins may.
func (s *Service) Campaign(ctx context.Context, viewer, batch model.ID) (CampaignProgress, error) {
	var out CampaignProgress
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		c, err := tx.Campaign(batch)
		if err != nil || (u.Role != model.RoleAdmin && c.UserID != u.ID) {
			return ErrNotFound
		}
		out = CampaignProgress{Campaign: c, Counts: map[model.State]int{}, Failed: []model.ID{}}
		done := 0
		// (states only: the progress page asks each second)
		if err := tx.BatchStates(batch, func(id model.ID, st model.State) bool {
			out.Total++
			out.Counts[st]++
			if st.Final() || st == model.StateSent {
				done++
			}
			if st.IsFailure() {
				out.Failed = append(out.Failed, id)
			}
			return true
		}); err != nil {
			return err
		}
		if out.Total > 0 {
			out.Done = float64(done) / float64(out.Total)
		}
		return nil
	})
	return out, err
}

// Campaigns lists the bulk sends the viewer may see (theirs; admins all),
// newest first, at most limit (default 50).
func (s *Service) Campaigns(ctx context.Context, viewer model.ID, limit int) ([]model.Campaign, error) {
	if limit <= 0 {
		limit = 50
	}
	var out []model.Campaign
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		return tx.Campaigns(func(c model.Campaign) bool {
			if u.Role == model.RoleAdmin || c.UserID == u.ID {
				out = append(out, c)
			}
			return len(out) < limit
		})
	})
	return out, err
}

// CancelCampaign cancels the parts of a bulk send not yet handed to a
// modem ("cancel the rest"); what is being sent finishes. It returns how
// many messages it cancelled.
func (s *Service) CancelCampaign(ctx context.Context, viewer, batch model.ID) (int, error) {
	var changed []change
	err := s.st.Update(func(tx *store.Tx) error {
		changed = changed[:0]
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		c, err := tx.Campaign(batch)
		if err != nil || (u.Role != model.RoleAdmin && c.UserID != u.ID) {
			return ErrNotFound
		}
		ms, err := tx.BatchMessages(batch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.State != model.StateQueued && m.State != model.StateSubmitting {
				continue
			}
			prev := m.State
			nm, err := tx.UpdateMessage(m.ID, func(_ *model.Message, parts []model.Part) error {
				for i := range parts {
					if parts[i].State == model.StateQueued {
						parts[i].State, parts[i].Error = model.StateCancelled, "cancelled with the rest of the bulk send"
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			if nm.State != prev {
				changed = append(changed, change{prev, nm})
			}
		}
		c.Cancelled = s.clock.Now()
		return tx.PutCampaign(&c)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnauthorized) {
			return 0, err
		}
		return 0, fmt.Errorf("gateway: cancel bulk %s: %w", batch, err)
	}
	for _, c := range changed {
		s.PublishStatus(c.prev, c.m)
	}
	return len(changed), nil
}
