package config

import (
	"math"
	"slices"
	"strings"
)

var (
	posTypes   = []string{"sale", "void", "refund", "partial_cancel", "no_sale"}
	posTenders = []string{"cash", "card", "mobile", "voucher", "other"}
)

func (v *validator) pos() {
	p := v.c.POS
	topic := func(key, name string) {
		v.check(topicPattern.MatchString(name) && name != "." && name != "..", "pos."+key,
			"want a Kafka topic name ([a-zA-Z0-9._-], 1 to 249 characters), got %q", name)
	}
	topic("topic", p.Topic)
	topic("dead_letter_topic", p.DeadLetterTopic)
	if p.Topic == p.DeadLetterTopic {
		v.check(false, "pos.dead_letter_topic", "must differ from pos.topic (%q)", p.Topic)
	}
	v.check(p.Before.D() >= 0, "pos.before", "must be >= 0, got %s", p.Before)
	v.check(p.After.D() >= 0, "pos.after", "must be >= 0, got %s", p.After)
	v.check(p.Before.D()+p.After.D() > 0, "pos.after", "the window before + after must be > 0")
	v.check(p.MaxGap.D() > 0, "pos.max_gap", "must be > 0, got %s", p.MaxGap)
	v.check(p.MaxWait.D() > 0, "pos.max_wait", "must be > 0, got %s", p.MaxWait)
	v.check(p.SnapshotEvery.D() > 0, "pos.snapshot_every", "must be > 0, got %s", p.SnapshotEvery)
	v.check(p.History.D() > p.Before.D()+p.After.D(), "pos.history",
		"must be longer than the window before + after (%s), got %s", p.Before.D()+p.After.D(), p.History)
	for i, t := range p.Check {
		v.check(slices.Contains(posTypes, t), joinIndex("pos.check", i), "want one of %s, got %q", strings.Join(posTypes, ", "), t)
	}
	for i, t := range p.RefundTenders {
		v.check(slices.Contains(posTenders, t), joinIndex("pos.refund_tenders", i), "want one of %s, got %q", strings.Join(posTenders, ", "), t)
	}
	v.check(p.Level >= 0 && p.Level <= 4, "pos.level", "must be in [0, 4] (0 = 3, threat to property), got %d", p.Level)
	cams := map[string]Camera{}
	for _, c := range v.c.Cameras {
		cams[c.ID] = c
	}
	seen := map[string]string{}
	for i, r := range p.Registers {
		rp := joinIndex("pos.registers", i)
		if v.check(r.ID != "", rp+".id", "required") {
			v.unique(rp+".id", r.ID, seen, "register id")
			v.check(idPattern.MatchString(r.ID), rp+".id", "must match [a-z0-9._-]+, got %q", r.ID)
		}
		if v.check(r.Camera != "", rp+".camera", "required") {
			_, known := cams[r.Camera]
			v.check(known, rp+".camera", "no camera with id %q", r.Camera)
		}
		v.check(len(r.CustomerZone) > 0, rp+".customer_zone", "required: the polygon where a customer stands")
		if len(r.CustomerZone) > 0 {
			v.polygon(rp+".customer_zone", r.CustomerZone)
		}
		if len(r.StaffZone) > 0 {
			v.polygon(rp+".staff_zone", r.StaffZone)
		}
	}
	if p.Enabled && len(p.Registers) > 0 {
		v.check(slices.Contains(v.c.Model.Classes, "person"), "pos.registers", "register checks need \"person\" in model.classes")
	}
}

func (v *validator) analytics() {
	a := v.c.Analytics
	v.required("analytics.state_dir", a.StateDir)
	v.required("analytics.group_id", a.GroupID)
	v.check(a.DedupWindow.D() > 0, "analytics.dedup_window", "must be > 0, got %s", a.DedupWindow)
	v.check(a.PublishEvery.D() > 0, "analytics.publish_every", "must be > 0, got %s", a.PublishEvery)
	v.check(a.MinTransactions >= 1, "analytics.min_transactions", "must be >= 1, got %d", a.MinTransactions)
	w := a.Weights
	sum := 0.0
	for _, x := range []struct {
		key string
		w   float64
	}{{"no_customer", w.NoCustomer}, {"cash_refunds", w.CashRefunds}, {"voids", w.Voids},
		{"partial_cancels", w.PartialCancels}, {"no_sales", w.NoSales}, {"refunds", w.Refunds}} {
		ok := v.check(x.w >= 0 && !math.IsInf(x.w, 1), "analytics.weights."+x.key, "must be >= 0, got %v", x.w)
		if ok {
			sum += x.w
		}
	}
	v.check(sum > 0, "analytics.weights", "at least one weight must be > 0")
	names := map[string]string{}
	stores := map[string]string{}
	for i, r := range a.Regions {
		rp := joinIndex("analytics.regions", i)
		if v.check(r.Name != "", rp+".name", "required") {
			v.unique(rp+".name", r.Name, names, "region name")
		}
		for j, s := range r.Stores {
			sp := joinIndex(rp+".stores", j)
			if !v.check(idPattern.MatchString(s), sp, "want a store id ([a-z0-9._-]+), got %q", s) {
				continue
			}
			if first, dup := stores[s]; dup {
				v.check(false, sp, "store %q is already in a region (%s)", s, v.where(first))
				continue
			}
			stores[s] = sp
		}
	}
}

// unique checks that name was not used before at another path of seen.
func (v *validator) unique(path, name string, seen map[string]string, what string) {
	if first, dup := seen[name]; dup {
		v.check(false, path, "duplicate %s %q (first used %s)", what, name, v.where(first))
		return
	}
	seen[name] = path
}
