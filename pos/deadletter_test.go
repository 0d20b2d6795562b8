package pos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNewDeadLetter(t *testing.T) {
	at := time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC)
	src := DeadLetterSource{Kind: SourceKafka, Topic: DefaultTopic, Partition: 2, Offset: 41}

	raw := msg(t, map[string]any{"amount": true})
	_, err := Parse(raw)
	dl := newDeadLetter(raw, err, src, at)
	want := DeadLetter{ID: dl.ID, Reason: ReasonInvalid, Errors: []string{"amount: is a boolean, want a number or a decimal string"},
		Source: src, ReceivedAt: at, Store: "s1", Register: "r1", Raw: string(raw)}
	if !reflect.DeepEqual(dl, want) {
		t.Errorf("dead letter\n got  %+v\n want %+v", dl, want)
	}
	if again := newDeadLetter(raw, err, src, at.Add(time.Hour)); again.ID != dl.ID {
		t.Error("the same message at the same offset got a different id")
	}
	src2 := src
	src2.Offset++
	if other := newDeadLetter(raw, err, src2, at); other.ID == dl.ID {
		t.Error("two offsets share an id")
	}

	// Not UTF-8: base64, and nothing read from it.
	bin := []byte("\xff\xfe{\"store\":\"s1\"}")
	_, err = Parse(bin)
	dl = newDeadLetter(bin, err, src, at)
	if dl.Reason != ReasonNotJSON || dl.Raw != "" || dl.Store != "" {
		t.Errorf("binary: %+v", dl)
	}
	if b, _ := base64.StdEncoding.DecodeString(dl.RawBase64); !bytes.Equal(b, bin) {
		t.Errorf("raw_base64 %q", dl.RawBase64)
	}

	// Too large: the first 64 KiB, cut at a character boundary, marked truncated.
	huge := append([]byte(`{"store":"s1","register":"r1","pad":"`), bytes.Repeat([]byte("é"), 40000)...)
	huge = append(huge, `"}`...)
	_, err = Parse(huge)
	dl = newDeadLetter(huge, err, DeadLetterSource{Kind: SourceHTTP, Remote: "127.0.0.1:5000"}, at)
	if dl.Reason != ReasonTooLarge || !dl.Truncated || len(dl.Raw) > maxDeadLetterRaw || len(dl.Raw) < maxDeadLetterRaw-1 ||
		!utf8.ValidString(dl.Raw) || !strings.HasPrefix(string(huge), dl.Raw) || dl.Store != "" {
		t.Errorf("too large: reason %s truncated %v len %d store %q", dl.Reason, dl.Truncated, len(dl.Raw), dl.Store)
	}
	// HTTP ids come from the content: the same item posted twice shares one.
	if again := newDeadLetter(huge, err, DeadLetterSource{Kind: SourceHTTP, Remote: "127.0.0.1:6000"}, at); again.ID != dl.ID {
		t.Error("the same HTTP item got two ids")
	}

	// Errors are capped.
	many := &InvalidError{Kind: ReasonInvalid}
	for i := 0; i < 250; i++ {
		many.Reasons = append(many.Reasons, "x")
	}
	dl = newDeadLetter([]byte(`{}`), many, src, at)
	if len(dl.Errors) != maxDeadLetterErrors+1 || dl.Errors[maxDeadLetterErrors] != "... and 150 more" {
		t.Errorf("errors not capped: %d, last %q", len(dl.Errors), dl.Errors[len(dl.Errors)-1])
	}
	// A store that is not a clean id is not echoed into the key.
	dl = newDeadLetter([]byte(`{"store":"s\n1","register":"r1"}`), many, src, at)
	if dl.Store != "" || dl.Register != "" {
		t.Errorf("dirty store echoed: %q %q", dl.Store, dl.Register)
	}
}

func TestDeadLetterSourceJSON(t *testing.T) {
	for _, c := range []struct {
		src  DeadLetterSource
		want string
	}{
		{DeadLetterSource{Kind: SourceKafka, Topic: "storesight.pos", Partition: 0, Offset: 0}, `{"kind":"kafka","topic":"storesight.pos","partition":0,"offset":0}`},
		{DeadLetterSource{Kind: SourceHTTP, Remote: "10.0.0.7:51000"}, `{"kind":"http","remote":"10.0.0.7:51000"}`},
	} {
		b, err := json.Marshal(c.src)
		if err != nil || string(b) != c.want {
			t.Errorf("marshal %+v = %s, %v; want %s", c.src, b, err, c.want)
		}
		var back DeadLetterSource
		if err := json.Unmarshal(b, &back); err != nil || back != c.src {
			t.Errorf("round trip %+v = %+v, %v", c.src, back, err)
		}
	}
}

func TestDeadLettersSend(t *testing.T) {
	brokers := startKafka(t)
	d := NewDeadLetters(brokers, "", testLogger())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Date(2026, 11, 16, 14, 0, 0, 0, time.UTC)
	raw := msg(t, map[string]any{"type": "refnd"})
	_, err := Parse(raw)
	a := newDeadLetter(raw, err, DeadLetterSource{Kind: SourceKafka, Topic: DefaultTopic, Partition: 1, Offset: 7}, at)
	_, err = Parse([]byte("nope"))
	b := newDeadLetter([]byte("nope"), err, DeadLetterSource{Kind: SourceHTTP, Remote: "127.0.0.1:1"}, at)
	if err := d.Send(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := d.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, brokers, DefaultDeadLetterTopic)
	if len(got) != 2 {
		t.Fatalf("%d dead letters on the topic, want 2", len(got))
	}
	byID := map[string]DeadLetter{}
	for _, m := range got {
		var dl DeadLetter
		if err := json.Unmarshal(m.Value, &dl); err != nil {
			t.Fatalf("decode %s: %v", m.Value, err)
		}
		byID[dl.ID] = dl
		wantKey := "unknown"
		if dl.Store != "" {
			wantKey = dl.Store + "/" + dl.Register
		}
		if string(m.Key) != wantKey || header(m, DeadLetterReasonHeader) != dl.Reason {
			t.Errorf("message key %q header %q for %+v", m.Key, header(m, DeadLetterReasonHeader), dl)
		}
	}
	for _, want := range []DeadLetter{a, b} {
		if got := byID[want.ID]; !reflect.DeepEqual(got, want) {
			t.Errorf("read back\n got  %+v\n want %+v", got, want)
		}
	}
	if s := d.Stats(); s.Sent[ReasonInvalid] != 1 || s.Sent[ReasonNotJSON] != 1 || s.Failed != 0 {
		t.Errorf("stats %+v", s)
	}
}
