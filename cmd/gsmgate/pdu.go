package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gsmgate/gsmgate/modem/pdu"
)

// `gsmgate pdu` is the support engineer's window on the codec: it decodes
// what a modem printed, builds what AT+CMGS takes, and counts a text as the
// UI will. Its JSON is also our contract for scripted checks, so the keys
// are stable and only present where they apply.

const pduUsage = `usage: gsmgate pdu <decode|encode|count> [flags] [arguments]

  decode   decode SMS PDUs (hex) into JSON
  encode   build the SMS-SUBMIT PDUs that carry a text
  count    count a text as the UI does: encoding, units, parts

All output is JSON on stdout; errors go to stderr with exit status 1.
Run 'gsmgate pdu <subcommand> --help' for its flags.
`

// runPDU is the "pdu" command reading "-" arguments from the process's
// standard input.
func runPDU(args []string, stdout, stderr io.Writer) int {
	return pduCommand(os.Stdin)(args, stdout, stderr)
}

// pduCommand returns the "pdu" command reading "-" arguments from stdin.
func pduCommand(stdin io.Reader) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		if len(args) == 0 {
			fmt.Fprint(stderr, pduUsage)
			return 1
		}
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, pduUsage)
			return 0
		case "decode":
			return pduDecode(args[1:], stdin, stdout, stderr)
		case "encode":
			return pduEncode(args[1:], stdin, stdout, stderr)
		case "count":
			return pduCount(args[1:], stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "gsmgate pdu: unknown subcommand %q\n\n%s", args[0], pduUsage)
		return 1
	}
}

// pduFlags parses flags that may stand before, between or after the
// positional arguments ("encode Hello --to +44..." works as well as the
// other order); "--" ends the flags. It returns the positional arguments,
// or the exit status when the caller must stop (0 after --help).
func pduFlags(fs *flag.FlagSet, synopsis string, args []string, stdout, stderr io.Writer) ([]string, int, bool) {
	fs.SetOutput(io.Discard)
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "usage: %s\n\nflags:\n", synopsis)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return nil, 0, false
		}
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate pdu %s: %v\n", fs.Name(), err)
			usage(stderr)
			return nil, 1, false
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), 0, true
		}
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// pduFail reports err on stderr and returns the error exit status.
func pduFail(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "gsmgate pdu %s: %v\n", sub, err)
	return 1
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ---- decode ----

type decodedJSON struct {
	Type        string   `json:"type"`
	SMSC        *string  `json:"smsc,omitempty"`
	Originator  *string  `json:"originator,omitempty"`
	Destination *string  `json:"destination,omitempty"`
	Recipient   *string  `json:"recipient,omitempty"`
	MR          *int     `json:"mr,omitempty"`
	PID         *int     `json:"pid,omitempty"`
	DCS         *int     `json:"dcs,omitempty"`
	Class       *int     `json:"class,omitempty"`
	Encoding    string   `json:"encoding,omitempty"`
	Text        *string  `json:"text,omitempty"`
	DataHex     *string  `json:"data_hex,omitempty"`
	UDH         *udhJSON `json:"udh,omitempty"`
	SCTS        string   `json:"scts,omitempty"`
	Discharge   string   `json:"discharge,omitempty"`
	Status      *int     `json:"status,omitempty"`
	Validity    string   `json:"validity,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

type udhJSON struct {
	Concat   *concatJSON   `json:"concat,omitempty"`
	Ports    *portsJSON    `json:"ports,omitempty"`
	National *nationalJSON `json:"national,omitempty"`
	Elements []ieJSON      `json:"elements"`
}

type concatJSON struct {
	Ref     int `json:"ref"`
	Total   int `json:"total"`
	Seq     int `json:"seq"`
	RefBits int `json:"ref_bits"`
}

type portsJSON struct {
	Source      int `json:"source"`
	Destination int `json:"destination"`
}

type nationalJSON struct {
	Locking string `json:"locking"`
	Single  string `json:"single"`
}

type ieJSON struct {
	ID   int    `json:"id"`
	Data string `json:"data"`
}

type joinedJSON struct {
	Type     string  `json:"type"`
	Text     *string `json:"text,omitempty"`
	DataHex  *string `json:"data_hex,omitempty"`
	Parts    int     `json:"parts"`
	Complete bool    `json:"complete"`
}

// rfc3339 formats a time stamp with its numeric offset ("+00:00", never
// "Z"): the offset is part of what the SC sent.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05-07:00")
}

func ptr[T any](v T) *T { return &v }

// pduInput is one PDU to decode, the length a modem declared for it (0
// when unknown) and, when the modem's listing said, its direction.
type pduInput struct {
	hex    string
	length int
	dir    pdu.Direction
	dirSet bool
}

// readPDULines reads PDUs from a modem transcript or a plain list: one PDU
// per line (CR, LF or both end a line); a "+CMGR:", "+CMGL:", "+CMT:" or
// "+CDS:" line gives the declared length (its last field) of the PDU on
// the next line, and the <stat> of +CMGR and +CMGL its direction (stored
// outgoing messages are SUBMITs); "OK", "AT..." and empty lines are
// skipped.
func readPDULines(r io.Reader) ([]pduInput, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	var in []pduInput
	var next pduInput
	// Modems end lines with CR LF, some with a bare CR: both separate.
	lines := strings.FieldsFunc(string(b), func(r rune) bool { return r == '\r' || r == '\n' })
	for _, line := range lines {
		line = strings.TrimSpace(line)
		upper := strings.ToUpper(line)
		switch {
		case line == "", upper == "OK", strings.HasPrefix(upper, "AT"):
			continue
		case strings.HasPrefix(line, "+"):
			next = pduInput{}
			if i := strings.LastIndexAny(line, ":,"); i >= 0 {
				if n, err := strconv.Atoi(strings.TrimSpace(line[i+1:])); err == nil && n > 0 {
					next.length = n
				}
			}
			next.dir, next.dirSet = listingDirection(upper)
			continue
		}
		next.hex = line
		in = append(in, next)
		next = pduInput{}
	}
	return in, nil
}

// listingDirection reads <stat> from "+CMGR: <stat>,..." or "+CMGL:
// <index>,<stat>,..." (TS 27.005 §3.4.2, §3.4.3; PDU mode).
func listingDirection(upper string) (pdu.Direction, bool) {
	field := -1
	switch {
	case strings.HasPrefix(upper, "+CMGR:"):
		field = 0
	case strings.HasPrefix(upper, "+CMGL:"):
		field = 1
	default:
		return pdu.MT, false
	}
	fields := strings.Split(upper[len("+CMGX:"):], ",")
	if field >= len(fields) {
		return pdu.MT, false
	}
	stat, err := strconv.Atoi(strings.TrimSpace(fields[field]))
	if err != nil {
		return pdu.MT, false
	}
	return pdu.DirectionForStat(stat)
}

func pduDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	tpdu := fs.Bool("tpdu", false, "the hex is a bare TPDU (default: it starts with the SMSC address, as AT+CMGR, AT+CMGL and +CMT print it)")
	mo := fs.Bool("mo", false, "the PDUs travel MS→SC (SMS-SUBMIT, DELIVER-REPORT, COMMAND), e.g. what was given to AT+CMGS")
	mt := fs.Bool("mt", false, "the PDUs travel SC→MS (SMS-DELIVER, STATUS-REPORT, SUBMIT-REPORT); the default, except for PDUs on stdin after a +CMGR or +CMGL line whose <stat> says 2 or 3 (stored outgoing)")
	strict := fs.Bool("strict", false, "fail on what lenient decoding tolerates with a warning")
	join := fs.Bool("join", false, "also reassemble the given parts and add a {\"type\": \"joined\"} object")
	pos, code, ok := pduFlags(fs, "gsmgate pdu decode [--tpdu] [--mo|--mt] [--strict] [--join] HEX...\n\n"+
		"Decodes each PDU and prints a JSON array, one object per PDU. HEX \"-\" reads PDUs\n"+
		"from stdin, one per line; a modem's \"+CMGR: ...,<length>\" line before a PDU gives\n"+
		"its declared length, and its <stat> the direction unless --mo or --mt is given.", args, stdout, stderr)
	if !ok {
		return code
	}
	if *mo && *mt {
		return pduFail(stderr, "decode", errors.New("--mo and --mt exclude each other"))
	}
	if len(pos) == 0 {
		return pduFail(stderr, "decode", errors.New("no PDU given (HEX... or - for stdin)"))
	}
	var inputs []pduInput
	for _, a := range pos {
		if a == "-" {
			in, err := readPDULines(stdin)
			if err != nil {
				return pduFail(stderr, "decode", err)
			}
			inputs = append(inputs, in...)
			continue
		}
		inputs = append(inputs, pduInput{hex: a})
	}
	if len(inputs) == 0 {
		return pduFail(stderr, "decode", errors.New("no PDU on stdin"))
	}
	opts := pdu.DecodeOptions{Direction: pdu.MT, SMSC: !*tpdu, Strict: *strict}
	if *mo {
		opts.Direction = pdu.MO
	}
	out := make([]any, 0, len(inputs)+1)
	msgs := make([]*pdu.Message, 0, len(inputs))
	failed := false
	for i, in := range inputs {
		o := opts
		o.Length = in.length
		if in.dirSet && !*mo && !*mt {
			o.Direction = in.dir
		}
		m, err := pdu.DecodeHex(in.hex, o)
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate pdu decode: PDU %d: %v\n", i+1, err)
			failed = true
			continue
		}
		msgs = append(msgs, m)
		out = append(out, decodedObject(m, opts.SMSC))
	}
	if failed {
		return 1
	}
	if *join {
		j, err := pdu.Join(msgs)
		if err != nil {
			return pduFail(stderr, "decode --join", err)
		}
		jo := joinedJSON{Type: "joined", Parts: j.Parts, Complete: j.Complete}
		if j.Encoding == pdu.EightBit {
			jo.DataHex = ptr(strings.ToUpper(hex.EncodeToString(j.Data)))
		} else {
			jo.Text = ptr(j.Text)
		}
		out = append(out, jo)
	}
	if err := writeJSON(stdout, out); err != nil {
		return pduFail(stderr, "decode", err)
	}
	return 0
}

// decodedObject turns a message into its JSON object with the keys that
// apply to its type.
func decodedObject(m *pdu.Message, smsc bool) decodedJSON {
	o := decodedJSON{Type: m.Type.String(), Warnings: m.Warnings}
	if smsc {
		o.SMSC = ptr(m.SMSC.String())
	}
	// Which optional fields a report carries is said by TP-PI; an all-ones
	// PI is padding (the decoder warns about it) and announces nothing.
	pi := m.PI
	if pi == 0xFF {
		pi = 0
	}
	var hasPID, hasDCS, hasUD bool
	switch m.Type {
	case pdu.TypeDeliver:
		o.Originator = ptr(m.Originator.String())
		o.SCTS = rfc3339(m.SCTS)
		hasPID, hasDCS, hasUD = true, true, true
	case pdu.TypeSubmit:
		o.MR = ptr(m.MR)
		o.Destination = ptr(m.Destination.String())
		hasPID, hasDCS, hasUD = true, true, true
		o.Validity = validityString(m.Validity)
	case pdu.TypeStatusReport:
		o.MR = ptr(m.MR)
		o.Recipient = ptr(m.Recipient.String())
		o.SCTS = rfc3339(m.SCTS)
		o.Discharge = rfc3339(m.Discharge)
		o.Status = ptr(int(m.Status))
		hasPID, hasDCS, hasUD = pi&1 != 0, pi&2 != 0, pi&4 != 0
	case pdu.TypeSubmitReport, pdu.TypeDeliverReport:
		o.SCTS = rfc3339(m.SCTS)
		hasPID, hasDCS, hasUD = pi&1 != 0, pi&2 != 0, pi&4 != 0
	case pdu.TypeCommand:
		o.MR = ptr(m.MR)
		o.Destination = ptr(m.Destination.String())
		hasPID = true
		if len(m.Data) > 0 {
			o.DataHex = ptr(strings.ToUpper(hex.EncodeToString(m.Data)))
		}
	}
	if hasPID {
		o.PID = ptr(int(m.PID))
	}
	if hasDCS {
		o.DCS = ptr(int(m.DCS))
		if m.Class >= 0 {
			o.Class = ptr(m.Class)
		}
	}
	if hasUD {
		o.Encoding = m.Encoding.String()
		if m.Encoding == pdu.EightBit {
			o.DataHex = ptr(strings.ToUpper(hex.EncodeToString(m.Data)))
		} else {
			o.Text = ptr(m.Text)
		}
		o.UDH = udhObject(m.UDH)
	}
	return o
}

func udhObject(h pdu.UDH) *udhJSON {
	if len(h) == 0 {
		return nil
	}
	u := &udhJSON{Elements: make([]ieJSON, 0, len(h))}
	for _, ie := range h {
		u.Elements = append(u.Elements, ieJSON{ID: int(ie.ID), Data: strings.ToUpper(hex.EncodeToString(ie.Data))})
	}
	if c, ok := h.Concat(); ok {
		bits := 8
		if c.Ref16 {
			bits = 16
		}
		u.Concat = &concatJSON{Ref: int(c.Ref), Total: c.Total, Seq: c.Seq, RefBits: bits}
	}
	if p, ok := h.Ports(); ok {
		u.Ports = &portsJSON{Source: p.Source, Destination: p.Destination}
	}
	if lock, single, ok := h.National(); ok {
		u.National = &nationalJSON{Locking: lock.String(), Single: single.String()}
	}
	return u
}

// validityString is the validity in words, "" when the SUBMIT has none; an
// absolute expiry keeps its numeric offset.
func validityString(v pdu.Validity) string {
	switch v.Format {
	case pdu.ValidityNone:
		return ""
	case pdu.ValidityAbsolute:
		return rfc3339(v.Absolute)
	}
	return v.String()
}

// ---- encode ----

type encodedJSON struct {
	Encoding string     `json:"encoding"`
	Parts    []partJSON `json:"parts"`
}

type partJSON struct {
	PDU        string `json:"pdu"`
	TPDULength int    `json:"tpdu_length"`
}

// textArg returns the one TEXT argument, or all of stdin for "-" (without
// the one line break that ends what echo and most editors write).
func textArg(pos []string, stdin io.Reader) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("want exactly one TEXT argument (quote it, or - for stdin), got %d", len(pos))
	}
	if pos[0] != "-" {
		return pos[0], nil
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, nil
}

// parseValidity reads a relative validity period: a Go duration ("90m",
// "12h") or a number of days or weeks ("4d", "2w"); "" or "none" for none.
func parseValidity(s string) (pdu.Validity, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return pdu.Validity{}, nil
	}
	var d time.Duration
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); unit == "d" || unit == "w" {
		k, err := strconv.Atoi(n)
		if err != nil {
			return pdu.Validity{}, fmt.Errorf("validity %q: %w", s, err)
		}
		d = time.Duration(k) * 24 * time.Hour
		if unit == "w" {
			d *= 7
		}
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return pdu.Validity{}, fmt.Errorf("validity %q: want a duration like 30m, 12h, 4d or 2w", s)
		}
	}
	// The longest relative period TP-VP can carry is 63 weeks.
	if d <= 0 || d > 63*7*24*time.Hour {
		return pdu.Validity{}, fmt.Errorf("validity %q: must be more than 0 and at most 63 weeks", s)
	}
	return pdu.Validity{Format: pdu.ValidityRelative, Relative: d}, nil
}

func parseSegmentEncoding(s string) (pdu.SegmentEncoding, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return pdu.SegmentAuto, nil
	case "gsm7":
		return pdu.SegmentGSM7, nil
	case "ucs2":
		return pdu.SegmentUCS2, nil
	}
	return 0, fmt.Errorf("--encoding %q: want auto, gsm7 or ucs2", s)
}

// nationalFlag defines --national the same way for encode and count, whose
// counts must agree; the value is parsed after the flags, so that a bad one
// is reported like the other values ("--national: ...").
func nationalFlag(fs *flag.FlagSet) *string {
	return fs.String("national", "none", "national language shift tables: none, auto or a language (turkish, spanish, portuguese, hindi, ...)")
}

func pduEncode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("encode", flag.ContinueOnError)
	to := fs.String("to", "", "destination number (+E.164, national digits, or alphanumeric)")
	smsc := fs.String("smsc", "", "service centre number for the PDU prefix (default: 00, the SIM's own)")
	statusReport := fs.Bool("status-report", false, "request a status report (TP-SRR)")
	encoding := fs.String("encoding", "auto", "auto, gsm7 or ucs2")
	national := nationalFlag(fs)
	ref := fs.Int("ref", -1, "concatenation reference for a multi-part text (default: random)")
	ref16 := fs.Bool("ref16", false, "use a 16-bit concatenation reference")
	validity := fs.String("validity", "", "relative validity period: 30m, 12h, 4d, 2w (default: none)")
	class := fs.Int("class", -1, "message class 0..3 (0 is a flash message; default: none)")
	pos, code, ok := pduFlags(fs, "gsmgate pdu encode --to NUMBER [flags] TEXT\n\n"+
		"Prints {\"encoding\", \"parts\": [{\"pdu\", \"tpdu_length\"}]}: each pdu is the hex for\n"+
		"AT+CMGS (SMSC octets + TPDU) and tpdu_length the n of AT+CMGS=<n>.\n"+
		"TEXT \"-\" reads the text from stdin (one final line break dropped).", args, stdout, stderr)
	if !ok {
		return code
	}
	text, err := textArg(pos, stdin)
	if err != nil {
		return pduFail(stderr, "encode", err)
	}
	opts := pdu.SubmitOptions{StatusReport: *statusReport, Class: pdu.NoClass}
	if opts.To, err = pdu.ParseAddress(*to); err != nil {
		return pduFail(stderr, "encode", fmt.Errorf("--to: %w", err))
	}
	if opts.To.IsZero() {
		return pduFail(stderr, "encode", errors.New("--to NUMBER is required"))
	}
	if opts.SMSC, err = pdu.ParseAddress(*smsc); err != nil {
		return pduFail(stderr, "encode", fmt.Errorf("--smsc: %w", err))
	}
	if opts.Segment.Encoding, err = parseSegmentEncoding(*encoding); err != nil {
		return pduFail(stderr, "encode", err)
	}
	if opts.Segment.National, err = pdu.ParseNationalMode(*national); err != nil {
		return pduFail(stderr, "encode", fmt.Errorf("--national: %w", err))
	}
	opts.Segment.Ref16 = *ref16
	maxRef := 255
	if *ref16 {
		maxRef = 65535
	}
	switch {
	case *ref == -1:
		opts.Ref = uint16(rand.IntN(maxRef + 1))
	case *ref < 0 || *ref > maxRef:
		return pduFail(stderr, "encode", fmt.Errorf("--ref %d: must be 0..%d", *ref, maxRef))
	default:
		opts.Ref = uint16(*ref)
	}
	if opts.Validity, err = parseValidity(*validity); err != nil {
		return pduFail(stderr, "encode", fmt.Errorf("--validity: %w", err))
	}
	if *class < -1 || *class > 3 {
		return pduFail(stderr, "encode", fmt.Errorf("--class %d: must be 0..3", *class))
	}
	opts.Class = *class
	parts, count, err := pdu.Submit(text, opts)
	if err != nil {
		return pduFail(stderr, "encode", err)
	}
	out := encodedJSON{Encoding: count.Encoding.String(), Parts: make([]partJSON, 0, len(parts))}
	for _, p := range parts {
		h, n := pdu.WithSMSC(opts.SMSC, p.TPDU)
		out.Parts = append(out.Parts, partJSON{PDU: h, TPDULength: n})
	}
	if err := writeJSON(stdout, out); err != nil {
		return pduFail(stderr, "encode", err)
	}
	return 0
}

// ---- count ----

type countJSON struct {
	Encoding       string        `json:"encoding"`
	Characters     int           `json:"characters"`
	Units          int           `json:"units"`
	Parts          int           `json:"parts"`
	PerPart        int           `json:"per_part"`
	Remaining      int           `json:"remaining"`
	UnicodeForcing []forcingJSON `json:"unicode_forcing"`
	National       *nationalJSON `json:"national,omitempty"`
}

type forcingJSON struct {
	Char  string `json:"char"`
	Index int    `json:"index"`
}

func pduCount(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("count", flag.ContinueOnError)
	national := nationalFlag(fs)
	pos, code, ok := pduFlags(fs, "gsmgate pdu count [--national none|auto|LANG] TEXT\n\n"+
		"Prints {\"encoding\", \"characters\", \"units\", \"parts\", \"per_part\", \"remaining\",\n"+
		"\"unicode_forcing\": [{\"char\", \"index\"}]} and, when national tables are used,\n"+
		"\"national\": {\"locking\", \"single\"}. TEXT \"-\" reads the text from stdin.", args, stdout, stderr)
	if !ok {
		return code
	}
	text, err := textArg(pos, stdin)
	if err != nil {
		return pduFail(stderr, "count", err)
	}
	mode, err := pdu.ParseNationalMode(*national)
	if err != nil {
		return pduFail(stderr, "count", fmt.Errorf("--national: %w", err))
	}
	c := pdu.CountText(text, pdu.SegmentOptions{National: mode})
	out := countJSON{
		Encoding:       c.Encoding.String(),
		Characters:     c.Characters,
		Units:          c.Units,
		Parts:          c.Parts,
		PerPart:        c.PerPart,
		Remaining:      c.Remaining,
		UnicodeForcing: make([]forcingJSON, 0, len(c.UnicodeForcing)),
	}
	for _, f := range c.UnicodeForcing {
		out.UnicodeForcing = append(out.UnicodeForcing, forcingJSON{Char: f.Char, Index: f.Index})
	}
	if c.Locking != pdu.LanguageDefault || c.Single != pdu.LanguageDefault {
		out.National = &nationalJSON{Locking: c.Locking.String(), Single: c.Single.String()}
	}
	if err := writeJSON(stdout, out); err != nil {
		return pduFail(stderr, "count", err)
	}
	return 0
}
