package gateway

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// BenchmarkReplyBehindBulk: two virtual modems (pty, 20 ms per send) are
// sending a 10,000-recipient bulk; each iteration queues a one-to-one reply
// and waits until it is sent. It reports how many bulk parts a modem began
// between the commit of the reply (Send returned) and the reply's own
// beginning, per modem (slots: the goal is at most one: a part a modem had
// claimed just before), and the wall time from Send to the reply's +CMGS
// answer. A part begins at its +CMGW with store-and-send, at its +CMGS
// otherwise, as TestReplyAfterBulkGoesInTheNextFreeSlot counts: a stored
// part's +CMSS waits for its slot's commit, so counting +CMSS starts would
// charge the reply with direct sends the other modem began after it.
func BenchmarkReplyBehindBulk(b *testing.B) {
	r := newMRig(b, 2, "pty", sim.ModemOptions{Latency: 20 * time.Millisecond})
	r.start(ModemOptions{})
	bulk := r.sendReq(SendRequest{To: bulkNumbers(0, 10000), Text: "Spring sale: 20% off everything until Sunday.", Campaign: "bench"})
	if len(bulk.Messages) != 10000 {
		b.Fatalf("bulk accepted %d", len(bulk.Messages))
	}
	r.waitFor("the bulk under way", func() bool { return len(r.net.Sent()) >= 4 })
	var slots []int
	var waits []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		to := fmt.Sprintf("+4479222%05d", i)
		start := time.Now()
		res, err := r.s.Send(context.Background(), SendRequest{UserID: r.user.ID, To: []string{to}, Text: "Yes, see you Thursday"})
		if err != nil {
			b.Fatal(err)
		}
		r.rec.mu.Lock()
		before := len(r.rec.begun)
		r.rec.mu.Unlock()
		_, parts := r.message(res.Messages[0].ID)
		at := -1
		r.waitFor("the reply", func() bool {
			r.rec.mu.Lock()
			defer r.rec.mu.Unlock()
			for j := before; j < len(r.rec.begun); j++ {
				if r.rec.begun[j] == string(parts[0].TPDU) {
					at = j
					return true
				}
			}
			return false
		})
		r.waitState(res.Messages[0].ID, model.StateSent)
		waits = append(waits, time.Since(start))
		slots = append(slots, at-before)
	}
	b.StopTimer()
	var left int
	_ = r.db.View(func(tx *store.Tx) error { left = tx.LaneDepth(store.LaneBulk); return nil })
	if left == 0 {
		b.Fatal("the bulk finished during the benchmark: raise its size")
	}
	slices.Sort(slots)
	slices.Sort(waits)
	modems := float64(len(r.sims))
	b.ReportMetric(float64(slots[len(slots)-1])/modems, "max-slots/modem")
	b.ReportMetric(float64(slots[len(slots)/2])/modems, "median-slots/modem")
	b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(waits[len(waits)-1].Microseconds())/1000, "max-ms")
}

// benchContacts are n contacts with names, companies and a custom field,
// one in ten with a name outside GSM 7-bit.
func benchContacts(n int) []model.Contact {
	out := make([]model.Contact, n)
	for i := range out {
		name := fmt.Sprintf("Person%d Surname", i)
		if i%10 == 0 {
			name = fmt.Sprintf("Zoë%d Ñúñez", i)
		}
		out[i] = model.Contact{Number: benchNumber(i), Name: name, Company: "Company " + fmt.Sprint(i%100), Fields: map[string]string{"team": "sales"}}
	}
	return out
}

// BenchmarkTemplateExpand10k: expand and count a template for 10,000
// contacts (what a bulk preview does per recipient, without the store).
func BenchmarkTemplateExpand10k(b *testing.B) {
	cs := benchContacts(10000)
	tp, err := ParseTemplate("Hi {first_name}, {company} news: our {team} team has a spring offer for you. Reply STOP to opt out.")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		parts := 0
		for j := range cs {
			text, missing := tp.Expand(ContactFields(cs[j].Number, &cs[j]), nil)
			if len(missing) > 0 {
				b.Fatal(missing)
			}
			parts += pdu.CountText(text, pdu.SegmentOptions{}).Parts
		}
		if parts < 10000 {
			b.Fatal(parts)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "recipients/s")
}

// BenchmarkBulkPreview10k: PreviewBulk of a saved search matching 10,000
// stored contacts (search, normalise, opt-out check, expansion, counts,
// estimate).
func BenchmarkBulkPreview10k(b *testing.B) {
	s, u, req := bulkSearchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := s.PreviewBulk(ctx, req)
		if err != nil || len(p.Valid) != 10000 {
			b.Fatalf("%v %d", err, len(p.Valid))
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "recipients/s")
	_ = u
}

// BenchmarkSendBulkTemplate10k: SendBulk of a template to a saved search
// matching 10,000 stored contacts: what BenchmarkBulkPreview10k does, then
// each recipient's own text segmented and committed in one transaction.
func BenchmarkSendBulkTemplate10k(b *testing.B) {
	s, _, req := bulkSearchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.SendBulk(ctx, req)
		if err != nil || len(res.Preview.Valid) != 10000 {
			b.Fatalf("%v", err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "recipients/s")
}

// bulkSearchEnv stores 10,000 contacts tagged "spring", a saved search of
// them, and a templated bulk request to it.
func bulkSearchEnv(b *testing.B) (*Service, model.User, BulkRequest) {
	s, u := benchEnv(b)
	ctx := context.Background()
	cs := benchContacts(10000)
	if err := s.st.Update(func(tx *store.Tx) error {
		for i := range cs {
			cs[i].Tags = []string{"spring"}
			if err := tx.PutContact(&cs[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if _, err := s.PutSavedSearch(ctx, u.ID, model.SavedSearch{ID: "spring", Query: model.ContactQuery{Tag: "spring"}}); err != nil {
		b.Fatal(err)
	}
	req := BulkRequest{UserID: u.ID, SearchIDs: []string{"spring"}, Text: "Hi {first_name}, {company} news: our {team} team has a spring offer for you."}
	return s, u, req
}

// BenchmarkCampaignProgress10k: one read of a 10,000-recipient bulk send's
// progress (what the progress page polls each second while it is open).
func BenchmarkCampaignProgress10k(b *testing.B) {
	s, u, req := bulkSearchEnv(b)
	ctx := context.Background()
	res, err := s.SendBulk(ctx, req)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := s.Campaign(ctx, u.ID, res.BatchID)
		if err != nil || p.Total != 10000 {
			b.Fatalf("%v %d", err, p.Total)
		}
	}
}
