package store

import (
	"bytes"
	"fmt"
	bolt "go.etcd.io/bbolt"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// The modems dashboard's rings: signal samples and daily message counts
// per modem. Each write drops what fell out of the window, so the buckets
// stay the size of the window whatever the uptime.

// AddSignalSample records one signal reading of modem and drops its
// samples older than keep before s.At.
func (tx *Tx) AddSignalSample(modem string, s model.SignalSample, keep time.Duration) error {
	b := tx.b(bModemSignal)
	prefix := str(modem)
	if err := putJSON(b, k(prefix, u64(uint64(max(s.At.Unix(), 0)))), s); err != nil {
		return fmt.Errorf("store: signal sample: %w", err)
	}
	return dropBefore(b, prefix, k(prefix, u64(uint64(max(s.At.Add(-keep).Unix(), 0)))))
}

// dropBefore deletes the keys under prefix that sort before cutoff: a
// ring's samples older than its window.
func dropBefore(b *bolt.Bucket, prefix, cutoff []byte) error {
	var old [][]byte
	fwdScan(b, prefix, nil, func(key, _ []byte) bool {
		if bytes.Compare(key, cutoff) >= 0 {
			return false
		}
		old = append(old, clone(key))
		return true
	})
	// Deleted after the scan: deleting while a cursor walks skips keys.
	for _, key := range old {
		if err := b.Delete(key); err != nil {
			return err
		}
	}
	return nil
}

// SignalSamples lists modem's samples at or after since, oldest first.
func (tx *Tx) SignalSamples(modem string, since time.Time) ([]model.SignalSample, error) {
	prefix := str(modem)
	var out []model.SignalSample
	var err error
	fwdScan(tx.b(bModemSignal), prefix, k(prefix, u64(uint64(max(since.Unix(), 0)))), func(_, v []byte) bool {
		var s model.SignalSample
		if err = unmarshal(v, &s); err != nil {
			return false
		}
		out = append(out, s)
		return true
	})
	return out, err
}

// DayKey is the day of t (UTC) as modem_daily keys it.
func DayKey(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// CountDaily applies fn to modem's counts of day t and drops its days more
// than keepDays before it.
func (tx *Tx) CountDaily(modem string, t time.Time, keepDays int, fn func(*model.DailyCounts)) error {
	b := tx.b(bModemDaily)
	prefix := str(modem)
	day := DayKey(t)
	key := k(prefix, []byte(day))
	var c model.DailyCounts
	if err := getJSON(b, key, &c); err != nil && err != ErrNotFound {
		return err
	}
	c.Day = day
	fn(&c)
	if err := putJSON(b, key, &c); err != nil {
		return fmt.Errorf("store: daily counts: %w", err)
	}
	return dropBefore(b, prefix, k(prefix, []byte(DayKey(t.AddDate(0, 0, -keepDays)))))
}

// DailyCounts lists modem's days from since (UTC day, inclusive), oldest
// first; days without messages are absent.
func (tx *Tx) DailyCounts(modem string, since time.Time) ([]model.DailyCounts, error) {
	prefix := str(modem)
	var out []model.DailyCounts
	var err error
	fwdScan(tx.b(bModemDaily), prefix, k(prefix, []byte(DayKey(since))), func(_, v []byte) bool {
		var c model.DailyCounts
		if err = unmarshal(v, &c); err != nil {
			return false
		}
		out = append(out, c)
		return true
	})
	return out, err
}
