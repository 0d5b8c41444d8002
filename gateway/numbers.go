package gateway

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// numberPlans answers, for a number already written in canonical E.164
// ("+" and digits only), what phonenumbers.Parse then IsValidNumber would,
// without their per-call cost: the library builds every pattern string
// ("^(?:" + pattern + ")$") and looks it up in a locked cache on each call,
// and parses through several builders and regular expressions. That was
// about 60 allocations and 9 KB per recipient of a bulk send
// (BENCHMARKS.md). Here the same patterns from the same metadata
// (phonenumbers.MetadataCollection) are compiled once per country code.
//
// It only ever says "valid, and this is its E.164 form"; for anything else
// (not canonical, a national prefix that Parse might strip, a leading zero,
// a region shared with dependent territories that have leading-digit rules,
// an invalid number) it says "don't know" and the caller takes the
// library's full path. TestFastNumberAgrees holds it to the library.
type numberPlans struct {
	once     sync.Once
	byRegion map[string]*phonenumbers.PhoneMetadata

	mu   sync.RWMutex
	byCC map[int]*ccPlan
}

// ccPlan is the compiled validation of one country calling code's main
// region (nil entries in numberPlans.byCC: no fast path for that code).
type ccPlan struct {
	prefix     *regexp.Regexp // national prefix for parsing, anchored at the start; nil if none
	general    numberDesc
	types      []numberDesc // premium rate … voicemail, then fixed line (getNumberTypeHelper's order)
	fixed      numberDesc
	mobile     numberDesc
	sameFixMob bool
}

// numberDesc is a phonenumbers.PhoneNumberDesc compiled as the library
// matches it (isNumberMatchingDesc): a length in PossibleLength (when
// listed) and a whole-string match of the national number pattern.
type numberDesc struct {
	lengths []int32
	re      *regexp.Regexp
}

func (d numberDesc) match(nsn string) bool {
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int32(len(nsn)) == l {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(nsn)
}

func compileDesc(d *phonenumbers.PhoneNumberDesc) (numberDesc, error) {
	re, err := regexp.Compile("^(?:" + d.GetNationalNumberPattern() + ")$")
	if err != nil {
		return numberDesc{}, err
	}
	return numberDesc{lengths: d.GetPossibleLength(), re: re}, nil
}

func (p *numberPlans) init() {
	p.byRegion = map[string]*phonenumbers.PhoneMetadata{}
	p.byCC = map[int]*ccPlan{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return // no fast path; the library's own init would have panicked anyway
	}
	for _, m := range coll.GetMetadata() {
		if id := m.GetId(); id != "001" {
			p.byRegion[id] = m
		}
	}
}

// plan returns the compiled plan for country code cc, or nil when numbers
// of that code must take the library's path.
func (p *numberPlans) plan(cc int) *ccPlan {
	p.once.Do(p.init)
	p.mu.RLock()
	pl, ok := p.byCC[cc]
	p.mu.RUnlock()
	if ok {
		return pl
	}
	pl = p.build(cc)
	p.mu.Lock()
	p.byCC[cc] = pl
	p.mu.Unlock()
	return pl
}

func (p *numberPlans) build(cc int) *ccPlan {
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 0 || regions[0] == "001" {
		return nil // non-geographic codes: keep the library's path
	}
	m := p.byRegion[regions[0]]
	if m == nil || int(m.GetCountryCode()) != cc {
		return nil
	}
	// IsValidNumber picks the region among those sharing the code: the
	// main one is tried first and, without leading-digit rules, chosen
	// whenever the number is valid there. With such rules it may be
	// skipped, so valid-in-main would not settle the answer.
	if len(regions) > 1 && m.GetLeadingDigits() != "" {
		return nil
	}
	pl := &ccPlan{sameFixMob: m.GetSameMobileAndFixedLinePattern()}
	if np := m.GetNationalPrefixForParsing(); np != "" {
		re, err := regexp.Compile("^(?:" + np + ")")
		if err != nil {
			return nil
		}
		pl.prefix = re
	}
	var err error
	if pl.general, err = compileDesc(m.GetGeneralDesc()); err != nil {
		return nil
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
		m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
		nd, err := compileDesc(d)
		if err != nil {
			return nil
		}
		pl.types = append(pl.types, nd)
	}
	if pl.fixed, err = compileDesc(m.GetFixedLine()); err != nil {
		return nil
	}
	if pl.mobile, err = compileDesc(m.GetMobile()); err != nil {
		return nil
	}
	return pl
}

// valid is getNumberTypeHelper(nsn, metadata) != UNKNOWN for the plan's
// region, in the library's order.
func (pl *ccPlan) valid(nsn string) bool {
	if !pl.general.match(nsn) {
		return false
	}
	for _, d := range pl.types {
		if d.match(nsn) {
			return true
		}
	}
	if pl.fixed.match(nsn) {
		return true
	}
	return !pl.sameFixMob && pl.mobile.match(nsn)
}

// validE164 reports whether in, which must already be "+" and ASCII
// digits, is a number phonenumbers.Parse reads back as exactly in and
// IsValidNumber calls valid. false means "take the library's path", not
// "invalid".
//
// Parse, for "+" and digits: takes the country code as the first 1-3
// digits that name one (extractCountryCode), keeps the rest as the national
// number unless the main region's national prefix for parsing matches at its
// start (then it may strip it: not handled here), refuses fewer than 2 or
// more than 17 digits, and marks a leading zero (not handled here). With
// none of the unhandled cases, Format(E164) is "+" + code + national number,
// which is in.
func (p *numberPlans) validE164(in string) bool {
	if len(in) < 4 || len(in) > 1+3+phonenumbers.MAX_LENGTH_FOR_NSN || in[0] != '+' || in[1] == '0' {
		return false
	}
	for i := 1; i < len(in); i++ {
		if in[i] < '0' || in[i] > '9' {
			return false
		}
	}
	digits := in[1:]
	for i := 1; i <= phonenumbers.MAX_LENGTH_COUNTRY_CODE && i < len(digits); i++ {
		cc, _ := strconv.Atoi(digits[:i])
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
			continue
		}
		nsn := digits[i:]
		if len(nsn) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nsn) > phonenumbers.MAX_LENGTH_FOR_NSN || nsn[0] == '0' {
			return false
		}
		pl := p.plan(cc)
		if pl == nil || (pl.prefix != nil && pl.prefix.MatchString(nsn)) {
			return false
		}
		return pl.valid(nsn)
	}
	return false
}
