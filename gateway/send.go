package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/nyaruka/phonenumbers"
)

// SendRequest is one send: one text to one or several recipients.
type SendRequest struct {
	// UserID is the sending user (required).
	UserID store.ID
	// To lists the recipients as typed; each is normalised to E.164 with
	// the default country. Several recipients make a marketing send.
	To   []string
	Text string
	// CRM optionally names the CRM record the message was sent from.
	CRM *store.CRMRef
	// StatusReport asks the network for delivery reports.
	StatusReport bool
	// SendAt delays sending (zero: now).
	SendAt time.Time
	// ExpiresAt gives up on parts not sent by then (zero: never).
	ExpiresAt time.Time
	// Priority is an explicit priority, -128..127 (0: none): above 0 the
	// message goes before everything else, below 0 after bulk sends; 100
	// and more also pass quiet hours and daily caps (store.LaneOf).
	Priority int
	// Campaign names a bulk send (several recipients); progress is read
	// by its batch ID (Service.Campaign).
	Campaign string
	// IdempotencyKey makes a retried request return the first one's result
	// instead of sending again (scoped to the user, remembered for
	// Options.IdempotencyTTL).
	IdempotencyKey string
}

// SendResult says what Send accepted.
type SendResult struct {
	BatchID store.ID
	// Messages are the accepted messages (one per valid recipient, in the
	// order of To), committed as queued.
	Messages []store.Message
	// Rejected lists the recipients that were not accepted, by index in To
	// (Field "to").
	Rejected []FieldError
	// Count is the segmentation of the text, computed once: the parts
	// stored and sent for every recipient.
	Count pdu.Count
	// Duplicate is set when the idempotency key matched an earlier request
	// and nothing new was sent.
	Duplicate bool
}

// ReasonOptedOut is why a bulk send skips a number that opted out.
const ReasonOptedOut = "opted out of bulk sends"

// NormalizeNumber reads a phone number as a person typed it and returns it in
// E.164, using the default country for national numbers.
func (s *Service) NormalizeNumber(raw string) (string, error) {
	in := strings.TrimSpace(raw)
	if in == "" {
		return "", errors.New("empty number")
	}
	if strings.HasPrefix(in, "00") {
		in = "+" + in[2:]
	}
	region := s.opt.DefaultCountry
	if region == "" && !strings.HasPrefix(in, "+") {
		return "", errors.New("not in international format (+...) and no default country is configured")
	}
	if region == "" {
		region = "ZZ"
	}
	num, err := phonenumbers.Parse(in, region)
	if err != nil {
		return "", fmt.Errorf("not a phone number: %s", strings.ToLower(err.Error()))
	}
	if !s.validNumber(num, region) {
		return "", errors.New("not a valid phone number for its country")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// validNumber is phonenumbers.IsValidNumber(num), cheaper for numbers of
// the default country: IsValidNumber first finds the number's region by
// running the number-type patterns of each region of its country code in
// turn (the main one first), then runs them again for that region; for a
// number valid in the default country when that is its code's main region
// the answer is known after one run. This halved the validation cost of a
// 10,000-recipient send (BENCHMARKS.md); TestValidNumberAgrees holds it to
// IsValidNumber.
func (s *Service) validNumber(num *phonenumbers.PhoneNumber, region string) bool {
	if regions := phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode())); len(regions) > 0 && regions[0] == region {
		if phonenumbers.IsValidNumberForRegion(num, region) {
			return true
		}
	}
	return phonenumbers.IsValidNumber(num)
}

// CountText is the segmentation Send would use for text.
func (s *Service) CountText(text string) pdu.Count { return pdu.CountText(text, s.opt.Segment) }

// Send validates and accepts a send. Every valid recipient's message, parts
// and index entries are committed in one transaction before Send returns.
// Invalid recipients are listed in SendResult.Rejected while the valid ones
// go ahead; when none is valid (or the text or user is wrong) the error is a
// *ValidationError. A repeated IdempotencyKey returns the first result with
// Duplicate set (ErrIdempotencyConflict when the request differs).
func (s *Service) Send(ctx context.Context, req SendRequest) (*SendResult, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	verr := &ValidationError{}
	if req.UserID == 0 {
		verr.add("user_id", -1, "", "a sending user is required")
	}
	if req.Text == "" {
		verr.add("text", -1, "", "text is empty")
	}
	if len(req.To) == 0 {
		verr.add("to", -1, "", "no recipient")
	} else if len(req.To) > s.opt.MaxRecipients {
		verr.add("to", -1, "", fmt.Sprintf("%d recipients; at most %d in one send", len(req.To), s.opt.MaxRecipients))
	}
	if !req.ExpiresAt.IsZero() && !req.SendAt.IsZero() && !req.ExpiresAt.After(req.SendAt) {
		verr.add("expires_at", -1, "", "expires before the send-at time")
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(s.clock.Now()) {
		verr.add("expires_at", -1, "", "already in the past")
	}
	if req.Priority < -128 || req.Priority > 127 {
		verr.add("priority", -1, "", "must be between -128 and 127")
	}
	if len(req.Campaign) > 200 {
		verr.add("campaign", -1, "", "longer than 200 characters")
	}
	if len(req.IdempotencyKey) > 200 {
		verr.add("idempotency_key", -1, "", "longer than 200 characters")
	}
	var count pdu.Count
	if req.Text != "" {
		count = pdu.CountText(req.Text, s.opt.Segment)
		if count.Parts > s.opt.MaxParts {
			verr.add("text", -1, "", fmt.Sprintf("needs %d SMS parts; at most %d", count.Parts, s.opt.MaxParts))
		}
	}
	if err := verr.errOrNil(); err != nil {
		return nil, err
	}

	type recipient struct {
		index  int
		number string
		addr   pdu.Address
	}
	var valid []recipient
	var rejected []FieldError
	seen := map[string]int{}
	for i, raw := range req.To {
		n, err := s.NormalizeNumber(raw)
		if err != nil {
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Reason: err.Error()})
			continue
		}
		if j, dup := seen[n]; dup {
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Reason: fmt.Sprintf("same number as recipient %d", j)})
			continue
		}
		seen[n] = i
		addr, err := pdu.ParseAddress(n)
		if err != nil {
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Reason: err.Error()})
			continue
		}
		valid = append(valid, recipient{i, n, addr})
	}
	if len(valid) == 0 {
		return nil, &ValidationError{Fields: rejected}
	}
	marketing := len(req.To) > 1
	fp := fingerprint(req)

	now := s.clock.Now()
	due := now
	if req.SendAt.After(now) {
		due = req.SendAt
	}
	// The network may give up at the expiry too: a relative validity
	// period counted from when the part is due (rounded up by the codec).
	var validity pdu.Validity
	if !req.ExpiresAt.IsZero() {
		validity = pdu.Validity{Format: pdu.ValidityRelative, Relative: req.ExpiresAt.Sub(due)}
	}
	var res *SendResult
	err := s.st.Batch(func(tx *store.Tx) error {
		res = &SendResult{Rejected: slices.Clone(rejected), Count: count}
		u, err := tx.User(req.UserID)
		if err != nil || u.Disabled {
			return &ValidationError{Fields: []FieldError{{Field: "user_id", Index: -1, Reason: "unknown or disabled user"}}}
		}
		if req.IdempotencyKey != "" {
			rec, err := tx.Idempotency(req.UserID, req.IdempotencyKey)
			if err == nil && now.Sub(rec.CreatedAt) < s.opt.IdempotencyTTL {
				if string(rec.Fingerprint) != string(fp) {
					return ErrIdempotencyConflict
				}
				msgs, err := tx.BatchMessages(rec.BatchID)
				if err != nil {
					return err
				}
				res.BatchID, res.Messages, res.Duplicate = rec.BatchID, msgs, true
				return nil
			}
		}
		res.BatchID = tx.NewID()
		res.Messages = make([]store.Message, 0, len(valid))
		o := outgoing{batch: res.BatchID, user: req.UserID, marketing: marketing, priority: req.Priority, campaign: req.Campaign,
			report: req.StatusReport, crm: req.CRM, sendAt: req.SendAt, expiresAt: req.ExpiresAt, due: due, validity: validity, now: now}
		for _, r := range valid {
			if marketing && tx.OptedOut(r.number) {
				res.Rejected = append(res.Rejected, FieldError{Field: "to", Index: r.index, Value: req.To[r.index], Reason: ReasonOptedOut})
				continue
			}
			m, err := s.insertOutgoing(tx, o, r.number, r.addr, req.Text, count)
			if err != nil {
				return err
			}
			res.Messages = append(res.Messages, m)
		}
		if len(res.Messages) == 0 {
			return &ValidationError{Fields: res.Rejected}
		}
		if req.IdempotencyKey != "" {
			if err := tx.PutIdempotency(req.UserID, req.IdempotencyKey, &store.Idempotency{BatchID: res.BatchID, Fingerprint: fp, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrIdempotencyConflict) {
			return nil, err
		}
		return nil, fmt.Errorf("gateway: send: %w", err)
	}
	if !res.Duplicate {
		s.log.Info("send accepted", "batch", res.BatchID, "user", req.UserID, "recipients", len(res.Messages),
			"rejected", len(rejected), "parts", count.Parts, "encoding", count.Encoding.String())
		if !due.After(now) {
			s.WakeOutbox()
		}
	}
	return res, nil
}

// fingerprint identifies a request for idempotency: same user, same
// recipients, text and options.
func fingerprint(req SendRequest) []byte {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(req.UserID))
	h.Write(b[:])
	fmt.Fprintf(h, "%q|%q|%v|%d|%d|%d|%q|", req.To, req.Text, req.StatusReport, req.SendAt.UnixNano(), req.ExpiresAt.UnixNano(), req.Priority, req.Campaign)
	if req.CRM != nil {
		fmt.Fprintf(h, "%q|%q", req.CRM.Type, req.CRM.ID)
	}
	return h.Sum(nil)
}

// outgoing is what the messages of one send share.
type outgoing struct {
	batch, user       store.ID
	marketing         bool
	priority          int
	campaign          string
	report            bool
	crm               *store.CRMRef
	sendAt, expiresAt time.Time
	due, now          time.Time
	validity          pdu.Validity
}

// insertOutgoing encodes text for one recipient and stores the message
// and its parts, queued, in tx. count is the text's segmentation (the
// encoding must agree with it: what the caller showed is what is sent).
func (s *Service) insertOutgoing(tx *store.Tx, o outgoing, number string, addr pdu.Address, text string, count pdu.Count) (store.Message, error) {
	ref, err := tx.NextRef()
	if err != nil {
		return store.Message{}, err
	}
	if !s.opt.Segment.Ref16 {
		ref &= 0xff
	}
	pparts, c, err := pdu.Submit(text, pdu.SubmitOptions{To: addr, StatusReport: o.report, Class: -1, Ref: ref, Segment: s.opt.Segment, Validity: o.validity})
	if err != nil {
		return store.Message{}, fmt.Errorf("gateway: encode to %s: %w", number, err)
	}
	if c.Parts != count.Parts || len(pparts) != count.Parts {
		return store.Message{}, fmt.Errorf("gateway: segmentation disagrees with the count (%d parts, counted %d)", len(pparts), count.Parts)
	}
	parts := make([]store.Part, len(pparts))
	for i, pp := range pparts {
		parts[i] = store.Part{Seq: pp.Seq, TPDU: pp.TPDU, NextAttempt: o.due}
	}
	m := store.Message{
		ID: tx.NewID(), BatchID: o.batch, Direction: store.Outgoing, Number: number,
		Text: text, Encoding: count.Encoding.String(), Parts: count.Parts, UserID: o.user,
		Marketing: o.marketing, Priority: o.priority, Campaign: o.campaign, StatusReport: o.report, CRM: o.crm, CreatedAt: o.now,
		SendAt: o.sendAt, ExpiresAt: o.expiresAt,
	}
	if count.Parts > 1 {
		m.Ref = ref
	}
	if err := tx.InsertMessage(&m, parts); err != nil {
		return store.Message{}, err
	}
	return m, nil
}
