package gateway

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// libraryValidE164 is what the fast path must agree with: Parse reads in
// back as exactly in, and IsValidNumber calls it valid (recipient's path
// for a number in international format, whatever the default country).
func libraryValidE164(in string) bool {
	for _, region := range []string{"GB", "US", "ZZ"} {
		num, err := phonenumbers.Parse(in, region)
		if err != nil || phonenumbers.Format(num, phonenumbers.E164) != in || !phonenumbers.IsValidNumber(num) {
			return false
		}
	}
	return true
}

// fastCandidates: every region's example number of every type, each with
// its last digits varied and its length cut and extended, plus random digit
// strings after every calling code.
func fastCandidates() []string {
	rng := rand.New(rand.NewPCG(13, 7919))
	var out []string
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		for _, typ := range types {
			ex := phonenumbers.GetExampleNumberForType(r, typ)
			if ex == nil {
				continue
			}
			e164 := phonenumbers.Format(ex, phonenumbers.E164)
			out = append(out, e164, e164[:len(e164)-1], e164+"1", e164+"23")
			for range 6 {
				b := []byte(e164)
				for j := len(b) - 4; j < len(b); j++ {
					if j > 1 {
						b[j] = byte('0' + rng.IntN(10))
					}
				}
				out = append(out, string(b))
			}
			// The national number with a leading zero (a national prefix
			// or an Italian leading zero): never on the fast path.
			cc := strconv.Itoa(int(ex.GetCountryCode()))
			out = append(out, "+"+cc+"0"+e164[1+len(cc):])
		}
	}
	codes := make([]int, 0, 256)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		for range 40 {
			n := "+" + strconv.Itoa(cc)
			for range 4 + rng.IntN(12) {
				n += strconv.Itoa(rng.IntN(10))
			}
			out = append(out, n)
		}
	}
	return out
}

// TestFastNumberAgrees holds the canonical-E.164 fast path to
// libphonenumber: whenever it says valid, the library's Parse gives back
// the same string and IsValidNumber says valid; and it covers most of the
// numbers the library calls valid (else it would be no shortcut).
func TestFastNumberAgrees(t *testing.T) {
	var p numberPlans
	var fast, valid, compared int
	for _, in := range fastCandidates() {
		got := p.validE164(in)
		want := libraryValidE164(in)
		compared++
		if want {
			valid++
		}
		if got {
			fast++
			if !want {
				t.Errorf("%s: fast path says valid, the library does not", in)
			}
		}
	}
	t.Logf("%d numbers compared, %d valid, %d of them on the fast path", compared, valid, fast)
	if compared < 10000 || valid < 2000 || fast*10 < valid*7 {
		t.Fatalf("too little covered: %d compared, %d valid, %d fast", compared, valid, fast)
	}
	// The benchmark's shape and the usual ones take the fast path.
	for _, in := range []string{"+447900000001", "+12125550123", "+33612345678", "+4915123456789"} {
		if !p.validE164(in) {
			t.Errorf("%s: not on the fast path", in)
		}
	}
}

// TestRecipientFastPathSameAnswer: Service.recipient gives the same answer
// (number, warning, error) for canonical numbers whether or not the fast
// path is taken, for default countries with and without shared codes.
func TestRecipientFastPathSameAnswer(t *testing.T) {
	for _, country := range []string{"GB", "US", "JE", ""} {
		e := newEnv(t, Options{DefaultCountry: country})
		for i, in := range fastCandidates() {
			if i%3 != 0 {
				continue
			}
			n, warn, err := e.s.recipient(in)
			ln, lwarn, lerr := e.s.recipientLibrary(in)
			if n != ln || warn != lwarn || fmt.Sprint(err) != fmt.Sprint(lerr) {
				t.Fatalf("%s (default %q): fast (%q, %q, %v), library (%q, %q, %v)", in, country, n, warn, err, ln, lwarn, lerr)
			}
		}
	}
}

// FuzzFastNumber: for any input, the fast path only ever answers valid for
// a number the library reads back unchanged and calls valid.
func FuzzFastNumber(f *testing.F) {
	for _, s := range []string{"+447900000001", "+4407900000001", "+12125550123", "+1", "+", "+999999", "+80012345678",
		"+441534123456", "+3906123456", "+5491123456789", "+0123", "+44 7900 000001", "+٤٤٧٩٠٠٠٠٠٠٠١"} {
		f.Add(s)
	}
	var p numberPlans
	f.Fuzz(func(t *testing.T, in string) {
		if p.validE164(in) && !libraryValidE164(in) {
			t.Fatalf("%q: fast path says valid, the library does not", in)
		}
	})
}

// recipientLibrary is recipient without the fast path, for the inputs of
// fastCandidates ("+" and digits: trimmed, no letters, not a short code).
func (s *Service) recipientLibrary(in string) (string, string, error) {
	return s.parseNumber(in)
}
