package pdu

import (
	"fmt"
	"unicode/utf8"
)

// NoClass is the Class value for "no message class".
const NoClass = -1

// Header sizes in octets (element id and length included).
const (
	ieConcat8Len  = 5
	ieConcat16Len = 6
	ieNationalLen = 3
)

// capacity is how many units (septets, UTF-16 code units or octets) one
// part holds after a header of ieOctets octets of elements (the UDHL octet
// is added here when there is any element).
func capacity(enc Encoding, ieOctets int) int {
	h := ieOctets
	if h > 0 {
		h++
	}
	switch enc {
	case GSM7:
		return (140*8 - 8*h) / 7
	case UCS2:
		return (140 - h) / 2
	}
	return 140 - h
}

// headerOctets is what the header costs every part, in octets of elements
// (capacity adds the UDHL octet): extra for o.Extra, concat for the
// concatenation element of a multi-part text.
func (o SegmentOptions) headerOctets() (extra, concat int) {
	if extra = o.Extra.Len(); extra > 0 {
		extra--
	}
	concat = ieConcat8Len
	if o.Ref16 {
		concat = ieConcat16Len
	}
	return extra, concat
}

// fit packs units of the given costs into parts greedily, never splitting
// one character (an escape pair, a surrogate pair) across two. When bounds
// is not nil, the index of the first character of each part is appended.
func fit(costs []uint8, single, multi int, bounds []int) (parts, last int, total int, out []int) {
	for _, c := range costs {
		total += int(c)
	}
	if total <= single {
		if bounds != nil {
			bounds = append(bounds, 0)
		}
		return 1, total, total, bounds
	}
	parts, used := 1, 0
	if bounds != nil {
		bounds = append(bounds, 0)
	}
	for i, c := range costs {
		if used+int(c) > multi {
			parts++
			used = 0
			if bounds != nil {
				bounds = append(bounds, i)
			}
		}
		used += int(c)
	}
	return parts, used, total, bounds
}

// option is one way to write a text: an encoding and, for 7-bit, the tables.
type option struct {
	enc   Encoding
	cs    charset
	ieLen int     // octets of national elements
	costs []uint8 // units per character; 0 where the tables lack it
	nbad  int     // characters the tables lack
	parts int
	last  int
	units int
}

func (op *option) evaluate(extra, concat int) {
	single := capacity(op.enc, op.ieLen+extra)
	multi := capacity(op.enc, op.ieLen+extra+concat)
	op.parts, op.last, op.units, _ = fit(op.costs, single, multi, nil)
}

// better reports whether op beats o: fewer parts, then more room left in
// the last part.
func (op *option) better(o *option, extra, concat int) bool {
	if op.parts != o.parts {
		return op.parts < o.parts
	}
	return op.perPart(extra, concat)-op.last > o.perPart(extra, concat)-o.last
}

func (op *option) perPart(extra, concat int) int {
	if op.parts <= 1 {
		return capacity(op.enc, op.ieLen+extra)
	}
	return capacity(op.enc, op.ieLen+extra+concat)
}

// plan is the outcome of segmentation.
type plan struct {
	runes []rune
	op    option
	count Count
}

// candidates lists the national table pairs worth trying for a mode (the
// default alphabet is tried before them); within a language the single
// shift alone, the locking shift alone, then both.
func candidates(n NationalMode) []charset {
	var langs []Language
	switch {
	case n.Auto:
		langs = Languages()
	case n.Language != LanguageDefault:
		langs = []Language{n.Language}
	}
	out := make([]charset, 0, 3*len(langs))
	for _, l := range langs {
		for _, p := range [3][2]Language{{LanguageDefault, l}, {l, LanguageDefault}, {l, l}} {
			if cs, ok := newCharset(p[0], p[1]); ok {
				out = append(out, cs)
			}
		}
	}
	return out
}

func (cs *charset) ieLen() int {
	n := 0
	if cs.lockLang != LanguageDefault {
		n += ieNationalLen
	}
	if cs.singleLang != LanguageDefault {
		n += ieNationalLen
	}
	return n
}

// distinctRunes indexes the different characters of a text and, for each,
// the tables that hold it: bit l of lock (single) is set when the locking
// (single shift) table of language l has it, bit 0 standing for the default
// alphabet (extension table). Scanning each table once is what keeps
// "national auto" cheap enough for every keystroke.
type distinctRunes struct {
	ids          []int32 // per character
	count        []int   // occurrences per distinct character
	lock, single []uint32
	runeOf       []rune
	scratchCosts []uint8
}

func newDistinct(runes []rune, cands []charset) *distinctRunes {
	d := &distinctRunes{ids: make([]int32, len(runes))}
	index := make(map[rune]int32)
	for i, r := range runes {
		id, ok := index[r]
		if !ok {
			id = int32(len(d.runeOf))
			index[r] = id
			d.runeOf = append(d.runeOf, r)
			d.count = append(d.count, 0)
		}
		d.ids[i] = id
		d.count[id]++
	}
	d.lock = make([]uint32, len(d.runeOf))
	d.single = make([]uint32, len(d.runeOf))
	// A 1024-bit filter on the low bits of the text's characters spares
	// most table entries the map lookup.
	var filter [16]uint64
	for _, r := range d.runeOf {
		filter[(r>>6)&15] |= 1 << (r & 63)
	}
	mark := func(t *[128]rune, l Language, masks []uint32) {
		for c, r := range t {
			if r == 0 || c == esc || filter[(r>>6)&15]&(1<<(r&63)) == 0 {
				continue
			}
			if id, ok := index[r]; ok {
				masks[id] |= 1 << l
			}
		}
	}
	var seenLock, seenSingle uint32
	mark(&defaultAlphabet, 0, d.lock)
	mark(&defaultExtension, 0, d.single)
	for _, cs := range cands {
		if l := cs.lockLang; l != 0 && seenLock&(1<<l) == 0 {
			seenLock |= 1 << l
			mark(cs.lock, l, d.lock)
		}
		if l := cs.singleLang; l != 0 && seenSingle&(1<<l) == 0 {
			seenSingle |= 1 << l
			mark(cs.single, l, d.single)
		}
	}
	d.scratchCosts = make([]uint8, len(d.runeOf))
	return d
}

// costs returns the cost per distinct character under cs (0: lacking) and
// how many characters of the text cs lacks.
func (d *distinctRunes) costs(cs *charset) ([]uint8, int) {
	lb, sb := uint32(1)<<cs.lockLang, uint32(1)<<cs.singleLang
	bad := 0
	for i := range d.runeOf {
		switch {
		case d.lock[i]&lb != 0:
			d.scratchCosts[i] = 1
		case d.single[i]&sb != 0:
			d.scratchCosts[i] = 2
		default:
			d.scratchCosts[i] = 0
			bad += d.count[i]
		}
	}
	return d.scratchCosts, bad
}

// makePlan chooses the encoding and tables for text and counts it.
func makePlan(text string, o SegmentOptions) (plan, error) {
	runes := []rune(text)
	p := plan{runes: runes}
	extra, concat := o.headerOctets()

	var best *option
	// forcing is the 7-bit option that lacks the fewest characters: the
	// ones it lacks are those the counter blames for UCS-2.
	var forcing *option
	if o.Encoding != SegmentUCS2 {
		def := &option{enc: GSM7, cs: charset{lock: &defaultAlphabet, single: &defaultExtension}}
		def.costs = make([]uint8, len(runes))
		escapes := 0
		for i, r := range runes {
			_, n := def.cs.septet(r)
			switch n {
			case 0:
				def.nbad++
			case 2:
				escapes++
			}
			def.costs[i] = uint8(n)
		}
		def.evaluate(extra, concat)
		forcing = def
		if def.nbad == 0 {
			best = def
		}
		// A national table can only help when the default alphabet cannot
		// write the text, or its escapes push it past one part.
		if cands := candidates(o.National); len(cands) > 0 && (def.nbad > 0 || escapes > 0 && def.parts > 1) {
			d := newDistinct(runes, cands)
			for ci := range cands {
				dc, bad := d.costs(&cands[ci])
				if bad > 0 {
					if bad < forcing.nbad {
						forcing = &option{enc: GSM7, cs: cands[ci], nbad: bad, costs: expand(d, dc)}
					}
					continue
				}
				op := &option{enc: GSM7, cs: cands[ci], ieLen: cands[ci].ieLen(), costs: expand(d, dc)}
				op.evaluate(extra, concat)
				// Against the default alphabet a national table must save a
				// part (not every handset renders them); among national
				// options the one with most room left wins a tie.
				switch {
				case best == nil:
					best = op
				case best == def:
					if op.parts < def.parts {
						best = op
					}
				case op.better(best, extra, concat):
					best = op
				}
				if forcing.nbad > 0 {
					forcing = op
				}
			}
		}
	}
	if o.Encoding == SegmentGSM7 && best == nil {
		// Count what can be counted: each lacking character as one septet.
		op := *forcing
		op.costs = append([]uint8(nil), op.costs...)
		for i, c := range op.costs {
			if c == 0 {
				op.costs[i] = 1
			}
		}
		op.ieLen = op.cs.ieLen()
		op.evaluate(extra, concat)
		p.op = op
		p.count = countOf(&op, text, len(runes), extra, concat, forcing)
		first := p.count.UnicodeForcing[0].Char
		return p, fmt.Errorf("pdu: %w: %d character(s) are not in the GSM 7-bit tables, first %q", ErrEncoding, forcing.nbad, first)
	}
	if best == nil {
		op := &option{enc: UCS2, costs: make([]uint8, len(runes))}
		for i, r := range runes {
			op.costs[i] = 1
			if r >= 0x10000 {
				op.costs[i] = 2
			}
		}
		op.evaluate(extra, concat)
		best = op
	}
	p.op = *best
	if best.enc != UCS2 || o.Encoding == SegmentUCS2 {
		forcing = nil
	}
	p.count = countOf(best, text, len(runes), extra, concat, forcing)
	return p, nil
}

// expand turns costs per distinct character into costs per character.
func expand(d *distinctRunes, dc []uint8) []uint8 {
	costs := make([]uint8, len(d.ids))
	for i, id := range d.ids {
		costs[i] = dc[id]
	}
	return costs
}

func countOf(op *option, text string, chars, extra, concat int, forcing *option) Count {
	c := Count{
		Encoding:   op.enc,
		Locking:    op.cs.lockLang,
		Single:     op.cs.singleLang,
		Characters: chars,
		Units:      op.units,
		Parts:      op.parts,
		PerPart:    op.perPart(extra, concat),
	}
	c.Remaining = c.PerPart - op.last
	if forcing != nil && forcing.nbad > 0 {
		// Slices of text: no allocation per character.
		c.UnicodeForcing = make([]Forcing, 0, forcing.nbad)
		i := 0
		for at := range text {
			if forcing.costs[i] == 0 {
				_, size := utf8.DecodeRuneInString(text[at:])
				c.UnicodeForcing = append(c.UnicodeForcing, Forcing{Char: text[at : at+size], Index: i})
			}
			i++
		}
	}
	return c
}

// CountText counts text as Submit would segment it. With a forced GSM 7-bit
// encoding that cannot write the text, the characters it lacks are counted
// as one septet each and listed in UnicodeForcing.
func CountText(text string, o SegmentOptions) Count {
	p, _ := makePlan(text, o)
	return p.count
}

// segment is one part's share of the text, encoded.
type segment struct {
	text string
	data []byte // septets or UTF-16BE
}

// split cuts the planned text into parts and encodes each.
func (p *plan) split(o SegmentOptions) []segment {
	extra, concat := o.headerOctets()
	single := capacity(p.op.enc, p.op.ieLen+extra)
	multi := capacity(p.op.enc, p.op.ieLen+extra+concat)
	_, _, _, bounds := fit(p.op.costs, single, multi, make([]int, 0, p.op.parts))
	bounds = append(bounds, len(p.runes))
	segs := make([]segment, 0, len(bounds)-1)
	for i := 0; i+1 < len(bounds); i++ {
		s := string(p.runes[bounds[i]:bounds[i+1]])
		var data []byte
		if p.op.enc == GSM7 {
			data, _, _ = p.op.cs.encode(make([]byte, 0, multi), s)
		} else {
			data = appendUTF16(make([]byte, 0, 2*multi), s)
		}
		segs = append(segs, segment{text: s, data: data})
	}
	return segs
}

// header builds the user data header of part seq of total.
func (p *plan) header(o SegmentOptions, ref uint16, seq, total int) UDH {
	var h UDH
	if total > 1 {
		h = append(h, ConcatIE(Concat{Ref: ref, Total: total, Seq: seq, Ref16: o.Ref16}))
	}
	if p.op.cs.lockLang != LanguageDefault {
		h = append(h, IE{ID: IENationalLock, Data: []byte{byte(p.op.cs.lockLang)}})
	}
	if p.op.cs.singleLang != LanguageDefault {
		h = append(h, IE{ID: IENationalSingle, Data: []byte{byte(p.op.cs.singleLang)}})
	}
	return append(h, o.Extra...)
}

// Submit segments text and builds one SMS-SUBMIT per part (MR 0: the modem
// assigns it). Its parts agree with CountText. Part.Hex carries the SMSC
// prefix of o.SMSC for AT+CMGS. A text needing more than 255 parts is an
// error.
func Submit(text string, o SubmitOptions) ([]Part, Count, error) {
	if o.To.IsZero() {
		return nil, Count{}, fmt.Errorf("pdu: submit: %w: no destination", ErrInvalid)
	}
	p, err := makePlan(text, o.Segment)
	if err != nil {
		return nil, p.count, fmt.Errorf("pdu: submit: %w", err)
	}
	if p.count.Parts > 255 {
		return nil, p.count, fmt.Errorf("pdu: submit: %w: %d parts (at most 255)", ErrInvalid, p.count.Parts)
	}
	if _, err := SMSCOctets(o.SMSC); err != nil {
		return nil, p.count, err
	}
	segs := p.split(o.Segment)
	parts, err := submitParts(&p, segs, o)
	if err != nil {
		return nil, p.count, err
	}
	for i := range parts {
		parts[i].Hex, _ = WithSMSC(o.SMSC, parts[i].TPDU)
	}
	return parts, p.count, nil
}

// submitParts encodes one SMS-SUBMIT per segment of p (Hex left empty).
func submitParts(p *plan, segs []segment, o SubmitOptions) ([]Part, error) {
	parts := make([]Part, len(segs))
	for i, s := range segs {
		m := Message{
			Type:         TypeSubmit,
			Direction:    MO,
			StatusReport: o.StatusReport,
			Destination:  o.To,
			Validity:     o.Validity,
			Class:        o.Class,
			Encoding:     p.op.enc,
			UDH:          p.header(o.Segment, o.Ref, i+1, len(segs)),
			Data:         s.data,
		}
		m.DCS = dcsFor(m.Encoding, m.Class)
		tpdu, err := Encode(&m)
		if err != nil {
			return nil, fmt.Errorf("pdu: submit part %d: %w", i+1, err)
		}
		parts[i] = Part{TPDU: tpdu, Text: s.text, Seq: i + 1}
	}
	return parts, nil
}

// SubmitPlan is a text segmented once, for building its SMS-SUBMITs to many
// recipients (a bulk send): segmenting and encoding the text again for each
// recipient was a tenth of the cost of accepting a 10,000-recipient send.
type SubmitPlan struct {
	p    plan
	segs []segment
	seg  SegmentOptions
}

// PlanSubmit segments text as Submit does with Segment seg.
func PlanSubmit(text string, seg SegmentOptions) (*SubmitPlan, error) {
	p, err := makePlan(text, seg)
	if err != nil {
		return nil, fmt.Errorf("pdu: submit: %w", err)
	}
	if p.count.Parts > 255 {
		return nil, fmt.Errorf("pdu: submit: %w: %d parts (at most 255)", ErrInvalid, p.count.Parts)
	}
	return &SubmitPlan{p: p, segs: p.split(seg), seg: seg}, nil
}

// Count is the segmentation, as CountText gives it.
func (sp *SubmitPlan) Count() Count { return sp.p.count }

// Submit builds the parts Submit(text, o) would, with o.Segment taken from
// the plan, except that Part.Hex is left empty (WithSMSC makes it from the
// TPDU when the part is sent). The parts share no memory with each other or
// with the plan.
func (sp *SubmitPlan) Submit(o SubmitOptions) ([]Part, error) {
	if o.To.IsZero() {
		return nil, fmt.Errorf("pdu: submit: %w: no destination", ErrInvalid)
	}
	if _, err := SMSCOctets(o.SMSC); err != nil {
		return nil, err
	}
	o.Segment = sp.seg
	return submitParts(&sp.p, sp.segs, o)
}

// Deliver builds the SMS-DELIVERs that carry text (or o.Data) to a phone:
// what an SC would send, for the virtual modem and tests.
func Deliver(text string, o DeliverOptions) ([]Part, error) {
	if o.From.IsZero() {
		return nil, fmt.Errorf("pdu: deliver: %w: no originator", ErrInvalid)
	}
	scts := o.SCTS
	if scts.IsZero() {
		return nil, fmt.Errorf("pdu: deliver: %w: no SCTS", ErrInvalid)
	}
	seg := o.Segment
	if o.Ports != nil {
		seg.Extra = append(UDH{PortsIE(*o.Ports)}, seg.Extra...)
	}
	var segs []segment
	enc := EightBit
	var p plan
	if o.Data != nil {
		segs = splitOctets(o.Data, seg)
	} else {
		var err error
		if p, err = makePlan(text, seg); err != nil {
			return nil, fmt.Errorf("pdu: deliver: %w", err)
		}
		segs = p.split(seg)
		enc = p.op.enc
	}
	if len(segs) > 255 {
		return nil, fmt.Errorf("pdu: deliver: %w: %d parts (at most 255)", ErrInvalid, len(segs))
	}
	parts := make([]Part, len(segs))
	for i, s := range segs {
		m := Message{
			Type:         TypeDeliver,
			Direction:    MT,
			MoreMessages: o.MoreMessages,
			StatusReport: o.StatusReport,
			Originator:   o.From,
			Class:        o.Class,
			Encoding:     enc,
			SCTS:         scts,
			Data:         s.data,
		}
		m.DCS = dcsFor(enc, o.Class)
		// For 8-bit data p is the zero plan: no national elements.
		m.UDH = p.header(seg, o.Ref, i+1, len(segs))
		tpdu, err := Encode(&m)
		if err != nil {
			return nil, fmt.Errorf("pdu: deliver part %d: %w", i+1, err)
		}
		parts[i] = Part{TPDU: tpdu, Text: s.text, Seq: i + 1}
		parts[i].Hex, _ = WithSMSC(Address{}, tpdu)
	}
	return parts, nil
}

// splitOctets cuts 8-bit data into parts.
func splitOctets(data []byte, o SegmentOptions) []segment {
	extra, concat := o.headerOctets()
	if single := capacity(EightBit, extra); len(data) <= single {
		return []segment{{data: data}}
	}
	multi := capacity(EightBit, extra+concat)
	var segs []segment
	for len(data) > 0 {
		n := min(multi, len(data))
		segs = append(segs, segment{data: data[:n:n]})
		data = data[n:]
	}
	return segs
}

// StatusReportFor builds the TPDU of an SMS-STATUS-REPORT: what an SC sends
// back for a SUBMIT that asked for one. A zero Discharge is SCTS.
func StatusReportFor(o StatusReportOptions) ([]byte, error) {
	if o.SCTS.IsZero() {
		return nil, fmt.Errorf("pdu: status report: %w: no SCTS", ErrInvalid)
	}
	dt := o.Discharge
	if dt.IsZero() {
		dt = o.SCTS
	}
	return Encode(&Message{
		Type:      TypeStatusReport,
		Direction: MT,
		MR:        o.MR,
		Recipient: o.Recipient,
		SCTS:      o.SCTS,
		Discharge: dt,
		Status:    o.Status,
		Class:     NoClass,
	})
}
