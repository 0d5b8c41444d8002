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
	"unicode"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/nyaruka/phonenumbers"
)

// SendRequest is one send: one text to one or several recipients.
type SendRequest struct {
	// UserID is the sending user (required).
	UserID model.ID
	// To lists the recipients as typed; each is normalised to E.164 with
	// the default country. Several recipients make a marketing send.
	To   []string
	Text string
	// CRM optionally names the CRM record the message was sent from.
	CRM *model.CRMRef
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
	// Campaign names a bulk send (several recipients).
	Campaign string
	// IdempotencyKey makes a retried request return the first one's result
	// instead of sending again (scoped to the user, remembered for
	// Options.IdempotencyTTL).
	IdempotencyKey string
}

// SendResult says what Send accepted.
type SendResult struct {
	BatchID model.ID
	// Messages are the accepted messages (one per valid recipient, in the
	// order of To), committed as queued.
	Messages []Accepted
	// Rejected lists the recipients that were not accepted, by index in To
	// (Field "to").
	Rejected []FieldError
	// Count is the segmentation of the text, computed once: the parts
	// stored and sent for every recipient.
	Count model.TextCount
	// Warnings are accepted recipients a caller may want to flag (Code
	// CodeUnknownNumberRange), by index in To.
	Warnings []FieldError
	// Replayed is set when the idempotency key matched an earlier request
	// and nothing new was sent.
	Replayed bool
}

// Accepted is one message a Send accepted: what its caller follows it by
// (the whole record is a Message call away). A 10,000-recipient send
// returns 10,000 of them; whole records would be four times the memory.
type Accepted struct {
	ID, BatchID model.ID
	Number      string
	State       model.State
	Encoding    string
	Parts       int
	Marketing   bool
	// Modem is set when a replayed request's message went out already.
	Modem string
}

func acceptedOf(m *model.Message) Accepted {
	return Accepted{ID: m.ID, BatchID: m.BatchID, Number: m.Number, State: m.State, Encoding: m.Encoding,
		Parts: m.Parts, Marketing: m.Marketing, Modem: m.Modem}
}

// ReasonOptedOut is why a bulk send skips a number that opted out.
const ReasonOptedOut = "opted out of bulk sends"

// CodeOptedOut is the FieldError code of a recipient skipped because it
// opted out of bulk sends.
const CodeOptedOut = "opted_out"

// ErrNoRecipients: none of a send's recipients can be used. Send returns it
// as a *RecipientsError that lists why for each.
var ErrNoRecipients = errors.New("gateway: none of the recipients can be used")

// RecipientsError is a send refused because no recipient is usable.
type RecipientsError struct {
	Rejected []FieldError
}

func (e *RecipientsError) Error() string {
	return fmt.Sprintf("gateway: none of the %d recipients can be used", len(e.Rejected))
}

// Unwrap makes errors.Is(err, ErrNoRecipients) hold.
func (e *RecipientsError) Unwrap() error { return ErrNoRecipients }

// NormalizeNumber reads a phone number as a person typed it and returns it in
// E.164 (using the default country for national numbers), or as given for a
// national short code. It refuses what cannot be a destination; a number of a
// possible length whose range the numbering metadata does not know is
// accepted (Recipient says so with a warning).
func (s *Service) NormalizeNumber(raw string) (string, error) {
	n, _, err := s.recipient(raw)
	return n, err
}

// Field error codes: what is wrong with one field (FieldError.Code), or, for
// a warning, what a caller may want to show.
const (
	CodeInvalid            = "invalid_field"
	CodeInvalidNumber      = "invalid_number"
	CodeDuplicateRecipient = "duplicate_recipient"
	CodeTooManyRecipients  = "too_many_recipients"
	CodeTextTooLong        = "text_too_long"
	// CodeUnknownNumberRange warns that a number has a possible length for
	// its country but is in a range the numbering metadata does not know
	// (new ranges, drama ranges): it is sent anyway.
	CodeUnknownNumberRange = "unknown_number_range"
)

// numberError is a recipient refused, with its code.
type numberError struct{ code, reason string }

func (e *numberError) Error() string { return e.reason }

// recipient normalises one outbound number; warning is a Code* or "".
func (s *Service) recipient(raw string) (number, warning string, err error) {
	in := strings.TrimSpace(raw)
	if in == "" {
		return "", "", &numberError{CodeInvalidNumber, "empty number"}
	}
	if strings.IndexFunc(in, unicode.IsLetter) >= 0 {
		return "", "", &numberError{CodeInvalidNumber, "a sender name, not a number: the network does not deliver SMS to alphanumeric senders, so they cannot be answered"}
	}
	if isShortCode(in) {
		return in, "", nil
	}
	if strings.HasPrefix(in, "00") {
		in = "+" + in[2:]
	}
	// Most numbers of a bulk arrive in E.164 already (CRMs, contacts,
	// groups): a valid one is known without the library's full path.
	if s.numbers.validE164(in) {
		return in, "", nil
	}
	return s.parseNumber(in)
}

// parseNumber is recipient's path through libphonenumber (in is trimmed,
// not a short code, "00" turned into "+").
func (s *Service) parseNumber(in string) (number, warning string, err error) {
	region := s.defaultCountry()
	if region == "" && !strings.HasPrefix(in, "+") {
		return "", "", &numberError{CodeInvalidNumber, "not in international format (+...) and no default country is configured"}
	}
	if region == "" {
		region = "ZZ"
	}
	num, perr := phonenumbers.Parse(in, region)
	if perr != nil {
		return "", "", &numberError{CodeInvalidNumber, "not a phone number"}
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if s.validNumber(num, region) {
		return e164, "", nil
	}
	if phonenumbers.IsPossibleNumberWithReason(num) == phonenumbers.IS_POSSIBLE {
		return e164, CodeUnknownNumberRange, nil
	}
	return "", "", &numberError{CodeInvalidNumber, "not a valid phone number for its country (wrong length)"}
}

// validNumber is phonenumbers.IsValidNumber(num), cheaper for numbers of
// the default country: IsValidNumber first finds the number's region by
// running the number-type patterns of each region of its country code in
// turn (the main one first), then runs them again for that region; for a
// number valid in the default country when that is its code's main region
// the answer is known after one run. This cut the validation cost of a
// 10,000-recipient send by about half (BENCHMARKS.md); TestValidNumberAgrees
// holds it to IsValidNumber.
func (s *Service) validNumber(num *phonenumbers.PhoneNumber, region string) bool {
	if regions := phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode())); len(regions) > 0 && regions[0] == region {
		if phonenumbers.IsValidNumberForRegion(num, region) {
			return true
		}
	}
	return phonenumbers.IsValidNumber(num)
}

// isShortCode: 3 to 8 digits without a country prefix, as national short
// codes are written ("80010"). They are real destinations in their network.
func isShortCode(s string) bool {
	if len(s) < 3 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s[0] != '0'
}

// CountText is the segmentation Send would use for text.
func (s *Service) CountText(text string) model.TextCount {
	return textCount(pdu.CountText(text, s.opt.Segment))
}

func textCount(c pdu.Count) model.TextCount {
	tc := model.TextCount{Encoding: c.Encoding.String(), Characters: c.Characters, Units: c.Units, Parts: c.Parts,
		PerPart: c.PerPart, Remaining: c.Remaining}
	for _, f := range c.UnicodeForcing {
		tc.UnicodeForcing = append(tc.UnicodeForcing, model.ForcingChar{Char: f.Char, Index: f.Index})
	}
	return tc
}

// Send validates and accepts a send. Every valid recipient's message, parts
// and index entries are committed in one transaction before Send returns.
// Invalid recipients are listed in SendResult.Rejected while the valid ones
// go ahead; when none is valid (or the text or user is wrong) the error is a
// *ValidationError. A repeated IdempotencyKey returns the first result with
// Replayed set (ErrIdempotencyConflict when the request differs).
func (s *Service) Send(ctx context.Context, req SendRequest) (*SendResult, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	verr := &ValidationError{}
	if req.UserID == 0 {
		verr.add("user_id", -1, "", "a sending user is required")
	}
	if len(req.To) == 0 {
		verr.Fields = append(verr.Fields, FieldError{Field: "to", Index: -1, Code: CodeInvalid, Reason: "a phone number or a list of them is required"})
	} else if len(req.To) > s.opt.MaxRecipients {
		verr.Fields = append(verr.Fields, FieldError{Field: "to", Index: -1, Code: CodeTooManyRecipients,
			Reason: fmt.Sprintf("%d recipients in one request; the limit is %d", len(req.To), s.opt.MaxRecipients)})
	}
	switch n := utf8.RuneCountInString(req.Text); {
	case strings.TrimSpace(req.Text) == "":
		verr.add("text", -1, "", "text is empty (or only spaces)")
	case !utf8.ValidString(req.Text):
		verr.add("text", -1, "", "text is not valid UTF-8")
	case n > s.opt.MaxTextChars:
		verr.Fields = append(verr.Fields, FieldError{Field: "text", Index: -1, Code: CodeTextTooLong,
			Reason: fmt.Sprintf("the text has %d characters; the limit is %d", n, s.opt.MaxTextChars)})
	}
	if !req.ExpiresAt.IsZero() && !req.SendAt.IsZero() && !req.ExpiresAt.After(req.SendAt) {
		verr.add("expires_at", -1, "", "expires before the send-at time")
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(s.clock.Now()) {
		verr.add("expires_at", -1, "", "already in the past")
	}
	if len(req.IdempotencyKey) > 200 {
		verr.add("idempotency_key", -1, "", "longer than 200 characters")
	}
	if req.Priority < -128 || req.Priority > 127 {
		verr.add("priority", -1, "", "must be between -128 and 127")
	}
	if len(req.Campaign) > 200 {
		verr.add("campaign", -1, "", "longer than 200 characters")
	}
	var count pdu.Count
	if len(verr.Fields) == 0 {
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
	var rejected, warnings []FieldError
	seen := map[string]int{}
	for i, raw := range req.To {
		n, warn, err := s.recipient(raw)
		if err != nil {
			code := CodeInvalidNumber
			var ne *numberError
			if errors.As(err, &ne) {
				code = ne.code
			}
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Code: code, Reason: err.Error()})
			continue
		}
		if j, dup := seen[n]; dup {
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Code: CodeDuplicateRecipient, Reason: fmt.Sprintf("same number as recipient %d", j)})
			continue
		}
		seen[n] = i
		addr, err := pdu.ParseAddress(n)
		if err != nil {
			rejected = append(rejected, FieldError{Field: "to", Index: i, Value: raw, Code: CodeInvalidNumber, Reason: "not a number the network can address"})
			continue
		}
		if warn != "" {
			warnings = append(warnings, FieldError{Field: "to", Index: i, Value: raw, Code: warn, Reason: "a possible number in a range the numbering plan does not list; sent anyway"})
		}
		valid = append(valid, recipient{i, n, addr})
	}
	if len(valid) == 0 {
		return nil, &RecipientsError{Rejected: rejected}
	}
	marketing := len(req.To) > 1
	var fp []byte
	if req.IdempotencyKey != "" {
		// Formatting every recipient costs a 10,000-recipient send 10 ms
		// and 2 MB: only when there is a key to compare it under.
		fp = fingerprint(req)
	}

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
	// The text is the same for every recipient: segmented once.
	plan, err := pdu.PlanSubmit(req.Text, s.opt.Segment)
	if err != nil {
		return nil, fmt.Errorf("gateway: send: %w", err)
	}
	var res *SendResult
	err = s.st.Batch(func(tx *store.Tx) error {
		res = &SendResult{Rejected: slices.Clone(rejected), Warnings: warnings, Count: textCount(count)}
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
				res.BatchID, res.Replayed = rec.BatchID, true
				for i := range msgs {
					res.Messages = append(res.Messages, acceptedOf(&msgs[i]))
				}
				return nil
			}
		}
		res.BatchID = tx.NewID()
		res.Messages = make([]Accepted, 0, len(valid))
		o := outgoing{batch: res.BatchID, user: req.UserID, marketing: marketing, priority: req.Priority, campaign: req.Campaign,
			report: req.StatusReport, crm: req.CRM, sendAt: req.SendAt, expiresAt: req.ExpiresAt, due: due, validity: validity, now: now,
			plan: plan}
		for _, r := range valid {
			if marketing && tx.OptedOut(r.number) {
				res.Rejected = append(res.Rejected, FieldError{Field: "to", Index: r.index, Value: req.To[r.index], Code: CodeOptedOut, Reason: ReasonOptedOut})
				continue
			}
			m, err := s.insertOutgoing(tx, o, r.number, r.addr, req.Text, count)
			if err != nil {
				return err
			}
			res.Messages = append(res.Messages, acceptedOf(&m))
		}
		if len(res.Messages) == 0 {
			return &RecipientsError{Rejected: res.Rejected}
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
		if errors.As(err, &ve) || errors.Is(err, ErrIdempotencyConflict) || errors.Is(err, ErrNoRecipients) {
			return nil, err
		}
		return nil, fmt.Errorf("gateway: send: %w", err)
	}
	if !res.Replayed {
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
	batch, user       model.ID
	marketing         bool
	priority          int
	campaign          string
	report            bool
	crm               *model.CRMRef
	sendAt, expiresAt time.Time
	due, now          time.Time
	validity          pdu.Validity
	// plan, when set, is the text already segmented (every recipient of
	// a Send gets the same text).
	plan *pdu.SubmitPlan
}

// insertOutgoing encodes text for one recipient and stores the message
// and its parts, queued, in tx. count is the text's segmentation (the
// encoding must agree with it: what the caller showed is what is sent).
func (s *Service) insertOutgoing(tx *store.Tx, o outgoing, number string, addr pdu.Address, text string, count pdu.Count) (model.Message, error) {
	// A concatenation reference only means something to a multipart
	// message (a single part carries no concatenation header): taking one
	// for each recipient of a one-part bulk cost a read and a write.
	var ref uint16
	if count.Parts > 1 {
		var err error
		if ref, err = tx.NextRef(); err != nil {
			return model.Message{}, err
		}
		if !s.opt.Segment.Ref16 {
			ref &= 0xff
		}
	}
	so := pdu.SubmitOptions{To: addr, StatusReport: o.report, Class: -1, Ref: ref, Segment: s.opt.Segment, Validity: o.validity}
	var pparts []pdu.Part
	var c pdu.Count
	var err error
	if o.plan != nil {
		pparts, err = o.plan.Submit(so)
		c = o.plan.Count()
	} else {
		pparts, c, err = pdu.Submit(text, so)
	}
	if err != nil {
		return model.Message{}, fmt.Errorf("gateway: encode to %s: %w", number, err)
	}
	if c.Parts != count.Parts || len(pparts) != count.Parts {
		return model.Message{}, fmt.Errorf("gateway: segmentation disagrees with the count (%d parts, counted %d)", len(pparts), count.Parts)
	}
	// The store keeps neither the slice nor the parts: a short text's
	// parts live on the stack.
	var buf [4]model.Part
	parts := buf[:0]
	if len(pparts) > len(buf) {
		parts = make([]model.Part, 0, len(pparts))
	}
	parts = parts[:len(pparts)]
	for i, pp := range pparts {
		parts[i] = model.Part{Seq: pp.Seq, TPDU: pp.TPDU, NextAttempt: o.due}
	}
	m := model.Message{
		ID: tx.NewID(), BatchID: o.batch, Direction: model.Outgoing, Number: number,
		Text: text, Encoding: count.Encoding.String(), Parts: count.Parts, UserID: o.user,
		Marketing: o.marketing, Priority: o.priority, Campaign: o.campaign, StatusReport: o.report, CRM: o.crm, CreatedAt: o.now,
		SendAt: o.sendAt, ExpiresAt: o.expiresAt,
	}
	if count.Parts > 1 {
		m.Ref = ref
	}
	if err := tx.InsertMessage(&m, parts); err != nil {
		return model.Message{}, err
	}
	return m, nil
}
