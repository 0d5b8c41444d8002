package gateway

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
	"github.com/gsmgate/gsmgate/modem"
	"github.com/gsmgate/gsmgate/modem/pdu"
	"github.com/gsmgate/gsmgate/modem/sim"
)

// The crash test: a child process (this test binary, re-executed with
// GSMGATE_CRASH_CHILD set) runs the gateway against virtual modems that live
// in the parent and are reached over TCP. The child accepts a storm of sends
// and prints each accepted message's ID once Send has returned (committed);
// meanwhile the parent floods the modems with incoming SMS. The parent kills
// the child with SIGKILL at a random moment, then opens the database as a
// restart would (RecoverAtStartup) and checks the promises:
//
//   - every accepted message is in the store, in a definite state (no part
//     left "submitting");
//   - no part reached the network twice, a part the network got is sent,
//     delivered or unknown, and a part the store calls sent or delivered
//     reached the network;
//   - every incoming SMS is stored at most once, and one not stored yet has
//     all its parts still on the modem, waiting in the store, or held by the
//     network: nothing was deleted from a modem before it was stored.
//
// A last child runs until the modems are empty and, after that, the store is
// idle (nothing to send, nothing waiting to be joined): then
// every incoming SMS is stored exactly once.
//
// The modems store before sending (+CMGW, +CMSS) unless GSMGATE_CRASH_DIRECT
// is set (then +CMGS): a part "submitting" with a stored copy after a kill
// is left for the next child to settle from the copy, and is checked once
// settled. The run ends with the count of unknown parts, by cause, to
// compare the two ways.
//
// Rounds: GSMGATE_CRASH_KILLS (default 30; 500 with GSMGATE_LONG=1); virtual
// modems: GSMGATE_CRASH_MODEMS (default 2; 3 with GSMGATE_LONG=1).
// GSMGATE_CRASH_SEED replays a run.

const crashUser = "storm"

func TestCrashChild(t *testing.T) {
	if os.Getenv("GSMGATE_CRASH_CHILD") == "" {
		t.Skip("helper process of TestCrashKill9; runs only when re-executed by it")
	}
	crashChild()
}

// crashChild runs the gateway until killed; it never returns.
func crashChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	logf, _ := os.OpenFile(os.Getenv("GSMGATE_CRASH_LOG"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	log := slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := store.Open(os.Getenv("GSMGATE_CRASH_DB"), store.Options{Timeout: 10 * time.Second})
	if err != nil {
		fail(err)
	}
	s, err := New(db, nil, log, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		fail(err)
	}
	var u model.User
	if err := db.View(func(tx *store.Tx) error { u, err = tx.UserByName(crashUser); return err }); err != nil {
		fail(err)
	}
	cfg := testPoolConfig()
	cfg.Modem.SendTimeout = 2 * time.Second
	// A commit (delete) that fails leaves the message on the modem, read
	// again after RedeliverAfter and recognised: soon enough for the
	// draining child to finish, as it would in service after 10 minutes.
	cfg.Modem.RedeliverAfter = 5 * time.Second
	cfg.Modem.DirectSend = os.Getenv("GSMGATE_CRASH_DIRECT") != ""
	pool := modem.NewPool(cfg, log)
	for _, p := range strings.Split(os.Getenv("GSMGATE_CRASH_PORTS"), ",") {
		if err := pool.Add(modem.Config{Port: p}); err != nil {
			fail(err)
		}
	}
	go func() {
		_ = s.Run(context.Background(), pool, ModemOptions{RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	}()
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		fmt.Fprintf(out, format+"\n", a...)
		out.Flush()
		mu.Unlock()
	}
	say("READY")
	go func() {
		// "IDLE t": a look at the store that began at t (Unix ns) found
		// nothing to send, nothing being sent and no received parts
		// waiting to be joined into their message.
		for range time.Tick(20 * time.Millisecond) {
			t := time.Now().UnixNano()
			var due, busy, pending bool
			_ = db.View(func(tx *store.Tx) error {
				_, due = tx.NextDue()
				ps, _ := tx.PartsInState(model.StateSubmitting, 1)
				busy = len(ps) > 0
				keys, _ := tx.PendingKeys()
				pending = len(keys) > 0
				return nil
			})
			if !due && !busy && !pending {
				say("IDLE %d", t)
			}
		}
	}()
	round, _ := strconv.Atoi(os.Getenv("GSMGATE_CRASH_ROUND"))
	sends, _ := strconv.Atoi(os.Getenv("GSMGATE_CRASH_SENDS"))
	rnd := rand.New(rand.NewPCG(uint64(round), 7))
	for i := range sends {
		text := fmt.Sprintf("storm r%d n%d", round, i)
		if i%3 == 1 {
			text = threeParts(text + " long ")
		}
		to := []string{fmt.Sprintf("+4479111%02d%03d", round%100, i)}
		if i%5 == 4 {
			to = append(to, fmt.Sprintf("+4479112%02d%03d", round%100, i))
		}
		res, err := s.Send(context.Background(), SendRequest{UserID: u.ID, To: to, Text: text, StatusReport: i%2 == 0})
		if err != nil {
			fail(err)
		}
		for _, m := range res.Messages {
			say("A %s", m.ID)
		}
		time.Sleep(time.Duration(3+rnd.IntN(10)) * time.Millisecond)
	}
	select {}
}

// injected is an SMS the parent sent to a modem.
type injected struct {
	from  string
	text  string
	parts int
	modem *sim.Modem
}

type crashRun struct {
	t        *testing.T
	dir      string
	path     string
	net      *sim.Network
	sims     []*sim.Modem
	ports    []string
	accepted map[model.ID]bool
	inbound  []injected
	rnd      *rand.Rand
	figures  struct{ kills, submitting, unknown, held, sent, received, redelivered int }
}

func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test spawns processes")
	}
	kills := 30
	if os.Getenv("GSMGATE_LONG") != "" {
		kills = 500
	}
	if v, err := strconv.Atoi(os.Getenv("GSMGATE_CRASH_KILLS")); err == nil {
		kills = v
	}
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("GSMGATE_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (GSMGATE_CRASH_SEED replays), %d kills", seed, kills)
	started := time.Now()
	defer func() { t.Logf("the run took %v", time.Since(started).Round(time.Second)) }()
	r := &crashRun{t: t, dir: t.TempDir(), accepted: map[model.ID]bool{}, rnd: rand.New(rand.NewPCG(seed, 1)),
		net: sim.NewNetwork(sim.NetworkOptions{})}
	r.path = filepath.Join(r.dir, "gsmgate.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	modems := 2
	if os.Getenv("GSMGATE_LONG") != "" {
		modems = 3
	}
	if v, err := strconv.Atoi(os.Getenv("GSMGATE_CRASH_MODEMS")); err == nil && v > 0 {
		modems = v
	}
	for i := range modems {
		// GSMGATE_CRASH_ONE_STORAGE=1: modems with the SIM storage alone, so
		// incoming SMS and stored copies share its slots.
		sm, err := r.net.AddModem(sim.ModemOptions{OwnNumber: fmt.Sprintf("+4477009001%02d", i), Latency: 3 * time.Millisecond,
			LatencyMax: 15 * time.Millisecond, SMCapacity: 255, MECapacity: 255, OneStorage: os.Getenv("GSMGATE_CRASH_ONE_STORAGE") != ""})
		if err != nil {
			t.Fatal(err)
		}
		a, err := sm.ServeTCP(ctx, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		r.sims, r.ports = append(r.sims, sm), append(r.ports, "tcp://"+a)
	}
	db, err := store.Open(r.path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(db, nil, nil, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Name: crashUser, Password: "password-storm"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for round := range kills {
		// Now and then the modems fail sends: temporary and permanent
		// errors and a send that is never answered (outcome unknown).
		if r.rnd.IntN(4) == 0 {
			sm := r.sims[r.rnd.IntN(len(r.sims))]
			sm.SetFaults(sim.Faults{SendErrors: []int{0, 42, 0, 38}, SendTimeouts: r.rnd.IntN(2)})
		}
		r.round(round, 15+r.rnd.IntN(20), time.Duration(30+r.rnd.IntN(700))*time.Millisecond, false)
		if t.Failed() {
			t.Fatalf("round %d failed (seed %d); child log in %s", round, seed, filepath.Join(r.dir, "child.log"))
		}
	}
	// The last child drains everything.
	for _, sm := range r.sims {
		sm.SetFaults(sim.Faults{})
	}
	r.round(kills, 0, 0, true)
	unknown := r.final()
	mode := "store_and_send"
	if os.Getenv("GSMGATE_CRASH_DIRECT") != "" {
		mode = "direct"
	}
	t.Logf("send mode %s; %d kills; %d messages accepted, %d parts reached the network, %d parts found submitting after a kill (%d became unknown at once, %d waited for their modem's stored copy); %d incoming SMS stored; %d stored parts were still on a modem at a kill (read again, recognised)",
		mode, r.figures.kills, len(r.accepted), r.figures.sent, r.figures.submitting, r.figures.unknown, r.figures.held, r.figures.received, r.figures.redelivered)
	t.Logf("unknown parts after the drain: %d from kills (%.2f per 100 kills), %d from unanswered sends (injected faults); by reason: %v",
		unknown.byKill, 100*float64(unknown.byKill)/float64(max(r.figures.kills, 1)), unknown.byFault, unknown.reasons)
	t.Logf("parts claimed for store-and-send that went by +CMGS, by reason (from the children's log): %v", r.fallbacks())
}

// fallbacks counts the children's "sending directly" lines by their
// fallback reason: each is a part a kill during its send leaves unknown.
func (r *crashRun) fallbacks() map[string]int {
	out := map[string]int{}
	log, _ := os.ReadFile(filepath.Join(r.dir, "child.log"))
	for _, line := range strings.Split(string(log), "\n") {
		if _, rest, ok := strings.Cut(line, " fallback="); ok {
			reason, _, _ := strings.Cut(rest, " ")
			out[reason]++
		}
	}
	return out
}

// round runs one child. It sends `sends` messages while the parent floods
// the modems, and is killed after `life` (drain: once everything is done).
func (r *crashRun) round(round, sends int, life time.Duration, drain bool) {
	t := r.t
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "GSMGATE_CRASH_CHILD=1", "GSMGATE_CRASH_DB="+r.path,
		"GSMGATE_CRASH_PORTS="+strings.Join(r.ports, ","), "GSMGATE_CRASH_ROUND="+strconv.Itoa(round),
		"GSMGATE_CRASH_SENDS="+strconv.Itoa(sends), "GSMGATE_CRASH_LOG="+filepath.Join(r.dir, "child.log"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	idle := make(chan int64, 16)
	lines := make(chan struct{})
	var ids []model.ID
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "A "):
				id, err := model.ParseID(strings.TrimPrefix(line, "A "))
				if err == nil {
					ids = append(ids, id)
				}
			case strings.HasPrefix(line, "IDLE "):
				at, err := strconv.ParseInt(strings.TrimPrefix(line, "IDLE "), 10, 64)
				if err != nil {
					break
				}
				select {
				case idle <- at:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	// The inbound flood, until the kill.
	stopFlood := make(chan struct{})
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		n := 0
		for {
			select {
			case <-stopFlood:
				return
			case <-time.After(time.Duration(5+r.rnd.IntN(25)) * time.Millisecond):
			}
			if drain {
				return
			}
			n++
			in := injected{from: fmt.Sprintf("+447700%06d", len(r.inbound)+1), modem: r.sims[r.rnd.IntN(len(r.sims))]}
			in.text = fmt.Sprintf("flood r%d n%d", round, n)
			sms := sim.InboundSMS{From: in.from, Text: in.text}
			if n%4 == 0 {
				in.text = threeParts(in.text + " multipart ")
				sms.Text = in.text
				sms.Order = []int{2, 3, 1}
			}
			parts, err := r.net.Inbound(in.modem, sms)
			if err != nil {
				t.Errorf("inbound: %v", err)
				return
			}
			in.parts = parts
			r.inbound = append(r.inbound, in)
		}
	}()

	dump := false
	if drain {
		// The drain fails when nothing moves for 60 s: a long run on a
		// loaded machine can leave a backlog the child needs minutes for.
		deadline := time.Now().Add(60 * time.Second)
		left := -1
		for {
			empty := true
			n := 0
			for _, sm := range r.sims {
				if sm.Held() > 0 {
					empty = false
					n += sm.Held()
				}
				for _, st := range sm.Stored() {
					// Status reports of parts whose MR a kill lost match
					// nothing and wait OrphanWait before they go.
					if !st.Report {
						empty = false
						n++
					}
				}
			}
			if left < 0 || n < left {
				left, deadline = n, time.Now().Add(60*time.Second)
			}
			if empty {
				// Done when a look at the store that began after the
				// modems were seen empty finds it idle: a part deleted
				// from a modem was stored first, but a multipart
				// message is joined after its last part's delete, so
				// an earlier look proves nothing.
				emptyAt := time.Now().UnixNano()
				wait := time.After(100 * time.Millisecond)
			look:
				for {
					select {
					case at := <-idle:
						if at > emptyAt {
							goto kill
						}
					case <-wait:
						break look
					}
				}
			} else {
				time.Sleep(50 * time.Millisecond)
			}
			if time.Now().After(deadline) {
				t.Errorf("the last child made no progress draining for 60 s: %s", r.leftovers())
				dump = true
				goto kill
			}
		}
	} else {
		time.Sleep(life)
	}
kill:
	if dump {
		// SIGQUIT makes the Go runtime print every goroutine's stack
		// to stderr: where the child is stuck.
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		stuck := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
		defer stuck.Stop()
	} else {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}
	// Read to the end before Wait closes the pipe: a line the child wrote
	// just before it died is still in the pipe.
	<-lines
	_ = cmd.Wait()
	close(stopFlood)
	<-floodDone
	if dump {
		t.Errorf("the child's goroutines at the drain deadline:\n%s", stderr.String())
		t.Errorf("the parts left queued (what the claim rules saw):%s", r.queuedParts())
	} else if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child ended by itself (%v): %s", cmd.ProcessState, stderr.String())
	}
	r.figures.kills++
	if os.Getenv("GSMGATE_CRASH_VERBOSE") != "" {
		t.Logf("round %d: child lived %v, %d accepted", round, time.Since(started), len(ids))
	}
	for _, id := range ids {
		r.accepted[id] = true
	}
	checked := time.Now()
	r.check()
	if os.Getenv("GSMGATE_CRASH_VERBOSE") != "" {
		t.Logf("round %d: check took %v", round, time.Since(checked))
	}
}

// check opens the store as a restart does and verifies the promises.
func (r *crashRun) check() {
	t := r.t
	db, err := store.Open(r.path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, nil, nil, Options{DefaultCountry: "GB", PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	var submitting int
	_ = db.View(func(tx *store.Tx) error {
		ps, _ := tx.PartsInState(model.StateSubmitting, 0)
		submitting = len(ps)
		return nil
	})
	recovered, err := s.RecoverAtStartup(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	r.figures.submitting += submitting
	r.figures.unknown += len(recovered)
	// Parts with a stored copy stay "submitting" for the next child,
	// which reads the copy.
	waiting := map[model.ID]bool{}
	_ = db.View(func(tx *store.Tx) error {
		ds, _ := tx.StoredSlots("")
		for _, d := range ds {
			waiting[d.Message.ID] = true
		}
		r.figures.held += len(ds)
		return nil
	})

	type pk struct {
		id  model.ID
		seq int
	}
	byPDU := map[string]pk{}
	parts := map[pk]model.Part{}
	incoming := map[string][]model.Message{}
	pending := map[string]map[int]bool{}
	err = db.View(func(tx *store.Tx) error {
		for id := range r.accepted {
			m, err := tx.Message(id)
			if err != nil {
				t.Errorf("accepted message %s lost: %v", id, err)
				continue
			}
			if !m.State.Valid() || m.State == model.StateSubmitting && !waiting[id] {
				t.Errorf("message %s in state %q after restart", id, m.State)
			}
		}
		var before model.ID
		for {
			page, err := tx.AllMessages(store.Page{Before: before, Limit: 1000})
			if err != nil {
				return err
			}
			for _, m := range page {
				if m.Direction == model.Incoming {
					incoming[m.Number] = append(incoming[m.Number], m)
					continue
				}
				ps, err := tx.Parts(m.ID)
				if err != nil {
					return err
				}
				for _, p := range ps {
					k := pk{m.ID, p.Seq}
					parts[k] = p
					byPDU[strings.ToUpper(hex.EncodeToString(p.TPDU))] = k
					if p.State == model.StateSubmitting && !p.Stored() {
						t.Errorf("part %s/%d still submitting after recovery, without a stored copy", m.ID, p.Seq)
					}
				}
			}
			if len(page) < 1000 {
				break
			}
			before = page[len(page)-1].ID
		}
		keys, err := tx.PendingKeys()
		for k := range keys {
			ps, _ := tx.PendingParts(k)
			for _, p := range ps {
				if pending[p.Originator] == nil {
					pending[p.Originator] = map[int]bool{}
				}
				pending[p.Originator][p.Seq] = true
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// Outgoing: nothing twice, nothing sent that the store does not know.
	times := map[pk]int{}
	sent := r.net.Sent()
	r.figures.sent = len(sent)
	for _, sp := range sent {
		k, ok := byPDU[strings.ToUpper(sp.PDU)]
		if !ok {
			t.Errorf("the network got a part the store does not have: %+v", sp)
			continue
		}
		times[k]++
		if times[k] > 1 && parts[k].State != model.StateUnknown {
			t.Errorf("part %s/%d reached the network %d times and is %s", k.id, k.seq, times[k], parts[k].State)
		}
		switch p := parts[k]; {
		case p.State == model.StateSent, p.State == model.StateDelivered, p.State == model.StateUnknown:
		case p.State == model.StateSubmitting && p.Stored(): // its copy says, at the next start
		default:
			t.Errorf("part %s/%d reached the network but is %s", k.id, k.seq, parts[k].State)
		}
	}
	for k, p := range parts {
		if (p.State == model.StateSent || p.State == model.StateDelivered) && times[k] == 0 {
			t.Errorf("part %s/%d is %s but never reached the network", k.id, k.seq, p.State)
		}
	}

	// Incoming: at most once; if not stored, every part is somewhere.
	onModem := map[string]map[int]bool{}
	held := 0
	for _, sm := range r.sims {
		held += sm.Held()
		for _, st := range sm.Stored() {
			msg, err := pdu.Decode(st.TPDU, pdu.DecodeOptions{Direction: pdu.MT})
			if err != nil || msg.Type != pdu.TypeDeliver {
				continue
			}
			from := msg.Originator.String()
			c, ok := msg.UDH.Concat()
			seq := 1
			if ok {
				seq = c.Seq
			}
			if onModem[from] == nil {
				onModem[from] = map[int]bool{}
			}
			if pending[from][seq] || len(incoming[from]) > 0 {
				// Stored, not yet deleted when the child died: the next
				// child reads it again and must recognise it.
				r.figures.redelivered++
			}
			onModem[from][seq] = true
		}
	}
	missing := 0
	r.figures.received = 0
	for _, in := range r.inbound {
		got := incoming[in.from]
		switch {
		case len(got) > 1:
			t.Errorf("incoming SMS from %s stored %d times", in.from, len(got))
		case len(got) == 1:
			r.figures.received++
			if got[0].Text != in.text || got[0].Incomplete {
				t.Errorf("incoming SMS from %s stored as %q (incomplete %v), sent %q", in.from, got[0].Text, got[0].Incomplete, in.text)
			}
		default:
			for seq := 1; seq <= in.parts; seq++ {
				if !onModem[in.from][seq] && !pending[in.from][seq] {
					missing++
				}
			}
		}
	}
	if missing > held {
		t.Errorf("%d incoming parts are neither stored, on a modem nor held by the network (%d held): deleted before they were stored", missing, held)
	}
}

// unknownCount is the unknown parts left after the drain.
type unknownCount struct {
	byKill, byFault int
	reasons         map[string]int
}

// final checks, after the draining child, that everything arrived, and
// counts the unknown parts.
func (r *crashRun) final() unknownCount {
	t := r.t
	u := unknownCount{reasons: map[string]int{}}
	if r.figures.received != len(r.inbound) {
		t.Errorf("%d of %d incoming SMS stored after draining", r.figures.received, len(r.inbound))
	}
	db, err := store.Open(r.path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *store.Tx) error {
		for id := range r.accepted {
			m, _ := tx.Message(id)
			if m.State == model.StateQueued || m.State == model.StateSubmitting {
				t.Errorf("message %s still %s after draining", id, m.State)
			}
		}
		ps, _ := tx.PartsInState(model.StateUnknown, 0)
		for _, p := range ps {
			u.reasons[p.Error]++
			if p.Error == ReasonUnknown || p.Error == ReasonStoredGone {
				u.byKill++
			} else {
				u.byFault++
			}
		}
		return nil
	})
	return u
}

// leftovers says what is left on the modems and what the child logged last,
// for a drain that does not finish.
// queuedParts describes every queued part, with what the dispatcher's
// claim rules look at (lane, due time, attempts, the modem it last went to
// and why it failed, the conversation's sticky modem), for a stalled
// drain. The child must have ended (the store is opened for writing).
func (r *crashRun) queuedParts() string {
	db, err := store.Open(r.path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		return "\n" + err.Error()
	}
	defer db.Close()
	var b strings.Builder
	_ = db.View(func(tx *store.Tx) error {
		next, ok := tx.NextDue()
		fmt.Fprintf(&b, "\nnext due %v (%v)", next, ok)
		for _, l := range store.Lanes {
			fmt.Fprintf(&b, "; lane %s holds %d", l, tx.LaneDepth(l))
		}
		ps, err := tx.PartsInState(model.StateQueued, 0)
		if err != nil {
			fmt.Fprintf(&b, "\n%v", err)
			return nil
		}
		for _, p := range ps {
			m, err := tx.Message(p.MessageID)
			if err != nil {
				fmt.Fprintf(&b, "\n%s/%d: %v", p.MessageID, p.Seq, err)
				continue
			}
			sticky := ""
			if c, err := tx.Conversation(m.Number); err == nil {
				sticky = c.Modem
			}
			fmt.Fprintf(&b, "\n%s/%d of %d to %s: lane %s, due %v, attempts %d, last modem %q, error %q, sticky modem %q",
				m.ID, p.Seq, m.Parts, m.Number, store.LaneOf(&m), p.NextAttempt, p.Attempts, p.Modem, p.Error, sticky)
		}
		return nil
	})
	return b.String()
}

func (r *crashRun) leftovers() string {
	var b strings.Builder
	for _, sm := range r.sims {
		fmt.Fprintf(&b, "\nmodem %s: %d held by the network", sm.IMEI(), sm.Held())
		for _, st := range sm.Stored() {
			fmt.Fprintf(&b, "\n  %s/%d stat %d report %v from %s %q", st.Storage, st.Index, st.Stat, st.Report, st.Addr, st.Text)
		}
	}
	log, _ := os.ReadFile(filepath.Join(r.dir, "child.log"))
	lines := strings.Split(strings.TrimSpace(string(log)), "\n")
	var last []string
	for i := len(lines) - 1; i >= 0 && len(last) < 60; i-- {
		if !strings.Contains(lines[i], "level=INFO") || strings.Contains(lines[i], "modem") {
			last = append(last, lines[i])
		}
	}
	b.WriteString("\nchild log (newest first, warnings and modem lines):")
	for _, l := range last {
		b.WriteString("\n  " + l)
	}
	return b.String()
}
