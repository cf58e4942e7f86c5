package ingest

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callvault/callvault/internal/callvault"
)

// readAsterisk reads everything; records and errors are keyed by line.
func readAsterisk(t *testing.T, in string, opts AsteriskOptions) (map[int]*callvault.CallRecord, map[int]error) {
	t.Helper()
	r := NewAsteriskReader(strings.NewReader(in), opts)
	recs, errs := map[int]*callvault.CallRecord{}, map[int]error{}
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("reader does not end")
		}
		rec, n, err := r.Next()
		if err == io.EOF {
			return recs, errs
		}
		if err != nil {
			errs[n] = err
			continue
		}
		mustValid(t, rec)
		recs[n] = rec
	}
}

func TestAsteriskSample(t *testing.T) {
	b, err := os.ReadFile("testdata/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, errs := readAsterisk(t, string(b), AsteriskOptions{SiteID: "site-hq"})
	for n, err := range errs {
		t.Errorf("line %d: %v", n, err)
	}
	if len(recs) != 30 {
		t.Fatalf("%d records, want 30 (31 lines, one record on two)", len(recs))
	}
	p := func(phone, name, ext string) callvault.Party {
		return callvault.Party{PhoneNumber: phone, Name: name, ExtensionNumber: ext}
	}
	tests := []struct {
		line            int
		id              string
		dir, result     string
		from, to        callvault.Party
		ext             string
		answered        bool
		durationS, talk int64
	}{
		{1, "1793872800.101-6f9f2b74", "Inbound", "Accepted", p("+14155550142", "", ""), p("", "", "1001"), "1001", true, 200, 194},
		{2, "1793873100.105-b0b9f916", "Inbound", "Missed", p("+16505550199", "Jane Roe", ""), p("", "", "1002"), "1002", false, 30, 0},
		{3, "1793873400.110-05bece9b", "Internal", "Accepted", p("", "Alice Johnson", "1001"), p("", "", "1002"), "1001", true, 124, 120},
		{4, "1793873700.115-348bc7bb", "Internal", "Busy", p("", `Robert "Bobby" Tables`, "1003"), p("", "", "1001"), "1003", false, 2, 0},
		{5, "1793874000.120-3129e12f", "Outbound", "Accepted", p("", "Alice Johnson", "1001"), p("+442071838750", "", ""), "1001", true, 700, 688},
		{6, "1793874300.125", "Outbound", "Failed", p("", "Bob Smith", "1002"), p("0049301234567", "", ""), "1002", false, 1, 0},
		{7, "1793874600.130-69f33ddc", "Outbound", "Failed", p("", "Dana Lee", "1004"), p("+18005550100", "", ""), "1004", false, 3, 0},
		{8, "1793874900.135-9785d4a4", "Inbound", "Missed", p("+12125550123", "", ""), p("", "", "1001"), "1001", false, 9, 0},
		{9, "1793875200.140-2167140b", "Inbound", "Missed", p("", "Anonymous", ""), p("", "", "1001"), "1001", false, 25, 0},
		{10, "1793875500.145-9ce40535", "Inbound", "Accepted", p("+4930123456", "Müller, José", ""), p("", "", "1002"), "1002", true, 120, 117},
		{11, "1793875800.150-92e928be", "Inbound", "Accepted", p("+13125550188", `C:\Users\ops`, ""), p("", "", "1003"), "1003", true, 40, 38},
		// the forked dial to ring group 600: one record per phone rung
		{12, "1793876400.160-db036cc7", "Inbound", "Missed", p("+13035550111", "Front Desk Caller", ""), p("", "", "1001"), "1001", false, 7, 0},
		{13, "1793876400.160-4b86307a", "Inbound", "Accepted", p("+13035550111", "Front Desk Caller", ""), p("", "", "1002"), "1002", true, 247, 240},
		{14, "1793877000.170", "Inbound", "Voicemail", p("+17185550177", "Sam Park", ""), p("", "", "1004"), "1004", true, 55, 35},
		{16, "1793877900.185-39f10e47", "Internal", "No Answer", p("", "Bob Smith", "1002"), p("", "", "1005"), "1002", false, 0, 0},
		{18, "1793878500.195-755fb142", "Inbound", "Accepted", p("+15105550156", "Multi Line", ""), p("", "", "1002"), "1002", true, 64, 60},
		{20, "1793879400.200-913a0acb", "Inbound", "Accepted", p("+16175550144", "Queue Caller", ""), p("", "", "1013"), "1013", true, 600, 570},
		{21, "1793879700.205-5401d5d0", "Internal", "Accepted", p("", "", "1005"), p("", "", "1001"), "1005", true, 60, 58},
		{22, "1793880000.210-88f5a63b", "Outbound", "Accepted", p("", "Bob", "1006"), p("911", "", ""), "1006", true, 120, 119},
		{24, "ast-bc981ad34a7b5e28b56e8a9e6dc31734", "Outbound", "No Answer", p("", "Alice Johnson", "1001"), p("+14155550142", "", ""), "1001", false, 45, 0},
		{26, "1793884800.300-412", "Inbound", "Accepted", p("+14155550142", "", ""), p("", "", "1001"), "1001", true, 300, 295},
		{28, "pbx01-1793885400.310-414", "Outbound", "No Answer", p("", "Alice Johnson", "1001"), p("+33142685300", "", ""), "1001", false, 20, 0},
		{29, "1793885700.315-415", "Inbound", "Busy", p("+19175550133", "Chris O'Neil", ""), p("", "", "1004"), "1004", false, 18, 0},
		{30, "1793886000.320-416", "Internal", "Failed", p("", "Dana Lee", "1004"), p("", "", "1001"), "1004", false, 0, 0},
		{31, "ast-", "Outbound", "Hang Up", p("", `Robert "Bobby" Tables`, "1003"), p("+14155550177", "", ""), "1003", false, 12, 0},
	}
	for _, tt := range tests {
		rec := recs[tt.line]
		if rec == nil {
			t.Errorf("line %d: no record", tt.line)
			continue
		}
		if !strings.HasPrefix(rec.ID, tt.id) || (tt.id != "ast-" && rec.ID != tt.id) || rec.Direction != tt.dir || rec.Result != tt.result || rec.From != tt.from || rec.To != tt.to ||
			rec.Extension != tt.ext || rec.Answer.IsZero() == tt.answered || rec.DurationMs != tt.durationS*1000 ||
			rec.TalkMs != tt.talk*1000 || rec.SiteID != "site-hq" {
			t.Errorf("line %d:\n got %s %s %s from=%+v to=%+v ext=%s answer=%v dur=%d talk=%d site=%s", tt.line,
				rec.ID, rec.Direction, rec.Result, rec.From, rec.To, rec.Extension, rec.Answer, rec.DurationMs, rec.TalkMs, rec.SiteID)
		}
	}
	if r := recs[15]; r.Type != callvault.CallFax {
		t.Errorf("ReceiveFAX line: type %q", r.Type)
	}
	if r := recs[1]; r.TelephonySessionID != "1793872800.101" || r.SessionID != "1793872800.101" ||
		!r.Start.Equal(time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)) || len(r.Legs) != 1 || !r.Legs[0].Master {
		t.Errorf("line 1: %+v", r)
	}
	if r := recs[27]; r.SessionID != "1793884800.300" || r.ID != "1793884800.300-413" {
		t.Errorf("line 27 (linkedid, sequence): %+v", r)
	}
}

func TestAsteriskIdempotentIDs(t *testing.T) {
	b, err := os.ReadFile("testdata/Master.csv")
	if err != nil {
		t.Fatal(err)
	}
	first, _ := readAsterisk(t, string(b), AsteriskOptions{})
	again, _ := readAsterisk(t, string(b), AsteriskOptions{})
	ids := map[string]int{}
	for n, r := range first {
		if again[n].ID != r.ID {
			t.Errorf("line %d: id %q then %q", n, r.ID, again[n].ID)
		}
		if prev, dup := ids[r.ID]; dup {
			t.Errorf("lines %d and %d share id %q", prev, n, r.ID)
		}
		ids[r.ID] = n
	}
}

func TestAsteriskLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	line := `"","1001","1002","from-internal","""Alice"" <1001>","PJSIP/1001-1","PJSIP/1002-2","Dial","PJSIP/1002","2026-10-02 09:00:00","2026-10-02 09:00:05","2026-10-02 09:01:00",60,55,"ANSWERED","DOCUMENTATION"`
	recs, errs := readAsterisk(t, line+"\n", AsteriskOptions{Location: ny})
	if len(errs) > 0 || recs[1] == nil {
		t.Fatal(errs)
	}
	if want := time.Date(2026, 10, 2, 13, 0, 0, 0, time.UTC); !recs[1].Start.Equal(want) || recs[1].Start.Location() != time.UTC {
		t.Errorf("start %v, want %v", recs[1].Start, want)
	}
}

const ast16 = `"","+14155550142","1001","from-trunk","""Caller"" <+14155550142>","PJSIP/trunk-1","PJSIP/1001-2","Dial","PJSIP/1001,30","2026-10-02 09:00:00","2026-10-02 09:00:05","2026-10-02 09:01:00",60,55,"ANSWERED","DOCUMENTATION"`

func TestAsteriskColumns(t *testing.T) {
	tests := []struct {
		name, extra string
		opts        AsteriskOptions
		id, session string
		errPart     string
	}{
		{"16", ``, AsteriskOptions{}, "ast-", "", ""},
		{"17 uniqueid", `,"1793872800.5"`, AsteriskOptions{}, "1793872800.5-", "1793872800.5", ""},
		{"17 uniqueid with systemname", `,"pbx-east-1793872800.5"`, AsteriskOptions{}, "pbx-east-1793872800.5-", "pbx-east-1793872800.5", ""},
		{"17 userfield", `,"vip customer"`, AsteriskOptions{}, "ast-", "", ""},
		{"17 userfield forced uniqueid", `,"abc"`, AsteriskOptions{Columns: &AsteriskColumns{UniqueID: true}}, "abc-", "abc", ""},
		{"18", `,"1793872800.5","vip"`, AsteriskOptions{}, "1793872800.5-", "1793872800.5", ""},
		{"19", `,"acct","1793872800.1",7`, AsteriskOptions{}, "ast-", "1793872800.1", ""},
		{"20", `,"1793872800.5","acct","1793872800.1",7`, AsteriskOptions{}, "1793872800.5-7", "1793872800.1", ""},
		{"21", `,"1793872800.5","","","1793872800.1",8`, AsteriskOptions{}, "1793872800.5-8", "1793872800.1", ""},
		{"18 when 16 configured", `,"1793872800.5","vip"`, AsteriskOptions{Columns: &AsteriskColumns{}}, "", "", "has 18 columns; the configured columns make 16"},
		{"22", `,"1","2","3","4","5",6`, AsteriskOptions{}, "", "", "has 22 columns; a cdr_csv line has 16 to 21"},
		{"bad sequence", `,"1793872800.5","","","1793872800.1",x`, AsteriskOptions{}, "", "", `sequence: "x" is not a whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAsterisk(t, ast16+tt.extra+"\n", tt.opts)
			if tt.errPart != "" {
				if errs[1] == nil || !strings.Contains(errs[1].Error(), tt.errPart) {
					t.Fatalf("want error %q, got %v", tt.errPart, errs[1])
				}
				wantErr(t, errs[1], callvault.EInvalid, "", "line 1: ")
				return
			}
			r := recs[1]
			if r == nil {
				t.Fatalf("no record: %v", errs[1])
			}
			if !strings.HasPrefix(r.ID, tt.id) || r.SessionID != tt.session {
				t.Errorf("id %q session %q; want id %q… session %q", r.ID, r.SessionID, tt.id, tt.session)
			}
		})
	}
}

func TestAsteriskBadLines(t *testing.T) {
	good := func(hour string) string { return strings.ReplaceAll(ast16, "2026-10-02 09:", "2026-10-02 "+hour+":") }
	inQuotes := strings.Index(ast16, "PJSIP/1001,30") + 5
	tests := []struct {
		name, line, field string
		parts             []string
	}{
		{"truncated in a quoted value", ast16[:inQuotes], "", []string{"not valid CSV", "not closed"}},
		{"truncated after a value", ast16[:strings.Index(ast16, ",60,55,")], "", []string{"has 12 columns"}},
		{"15 columns", strings.TrimSuffix(ast16, `,"DOCUMENTATION"`), "", []string{"has 15 columns"}},
		{"bare quote", strings.Replace(ast16, `"from-trunk"`, `from"trunk`, 1), "", []string{`'"' inside an unquoted value`}},
		{"bad start", strings.Replace(ast16, "2026-10-02 09:00:00", "2026-10-02T09:00:00", 1), "start", []string{`start: "2026-10-02T09:00:00" is not a date`}},
		{"bad month", strings.Replace(ast16, "2026-10-02 09:00:05", "2026-13-02 09:00:05", 1), "answer", []string{"answer:"}},
		{"empty start", strings.Replace(ast16, `"2026-10-02 09:00:00"`, ``, 1), "start", []string{"start: required"}},
		{"negative duration", strings.Replace(ast16, ",60,55,", ",-60,55,", 1), "duration", []string{"duration: -60 is negative"}},
		{"negative billsec", strings.Replace(ast16, ",60,55,", ",60,-1,", 1), "billsec", []string{"billsec: -1 is negative"}},
		{"duration text", strings.Replace(ast16, ",60,55,", ",sixty,55,", 1), "duration", []string{`"sixty" is not a whole number`}},
		{"duration disagrees", strings.Replace(ast16, ",60,55,", ",90,55,", 1), "durationMs", []string{"disagrees"}},
		{"end before start", strings.Replace(ast16, "2026-10-02 09:01:00", "2026-10-02 08:01:00", 1), "endTime", []string{"is before startTime"}},
		{"disposition", strings.Replace(ast16, "ANSWERED", "HUNG", 1), "disposition", []string{`"HUNG" is not one of ANSWERED, NO ANSWER`}},
		{"absurd year", strings.Replace(strings.Replace(ast16, "2026-10-02", "1971-10-02", 3), ",60,55,", ",60,55,", 1), "startTime", []string{"not a plausible"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good("08") + "\n" + tt.line + "\n" + good("10") + "\n"
			recs, errs := readAsterisk(t, in, AsteriskOptions{})
			if recs[1] == nil || recs[3] == nil {
				t.Fatalf("good lines around the bad one were lost: %v", errs)
			}
			if recs[2] != nil || errs[2] == nil {
				t.Fatalf("line 2: record %+v, error %v", recs[2], errs[2])
			}
			wantErr(t, errs[2], callvault.EInvalid, tt.field, append([]string{"line 2: "}, tt.parts...)...)
		})
	}
}

func TestAsteriskOverlongAndJoin(t *testing.T) {
	good := ast16
	long := `"` + strings.Repeat("x", maxAsteriskLine+10) + `"` + ast16[2:]
	// A line whose quote never closes: the reader tries the next lines but
	// must give them back when no join makes a record.
	open := `"","+1415","1001","from-trunk","""Caller`
	in := strings.Join([]string{good, long, open, good, good, ""}, "\n")
	recs, errs := readAsterisk(t, in, AsteriskOptions{})
	if len(recs) != 3 || recs[1] == nil || recs[4] == nil || recs[5] == nil {
		t.Fatalf("records at %v, errors %v", keys(recs), errs)
	}
	wantErr(t, errs[2], callvault.EInvalid, "", "line 2: longer than")
	wantErr(t, errs[3], callvault.EInvalid, "", "line 3: not valid CSV")

	// A value with a line break inside quotes is one record.
	multi := strings.Replace(ast16, `"PJSIP/1001,30"`, "\"PJSIP/1001,30\nmore\r\nand more\"", 1)
	recs, errs = readAsterisk(t, multi+"\n"+good+"\n", AsteriskOptions{})
	if len(errs) > 0 || recs[1] == nil || recs[4] == nil {
		t.Fatalf("records at %v, errors %v", keys(recs), errs)
	}
}

func keys[V any](m map[int]V) []int {
	var k []int
	for n := range m {
		k = append(k, n)
	}
	return k
}

func TestAsteriskDirectionAndResult(t *testing.T) {
	line := func(src, dst, ctx, ch, dch, dispo string, answered bool) string {
		ans := ""
		bill := "0"
		if answered {
			ans, bill = `"2026-10-02 09:00:05"`, "55"
		}
		return `"","` + src + `","` + dst + `","` + ctx + `","","` + ch + `","` + dch + `","Dial","","2026-10-02 09:00:00",` + ans +
			`,"2026-10-02 09:01:00",60,` + bill + `,"` + dispo + `","DOCUMENTATION"`
	}
	tests := []struct {
		name, in, dir, result string
	}{
		{"ext to ext", line("1001", "1002", "from-internal", "PJSIP/1001-1", "PJSIP/1002-2", "NO ANSWER", false), "Internal", "No Answer"},
		{"ext to number", line("1001", "+15551234567", "from-internal", "PJSIP/1001-1", "PJSIP/trunk-2", "CANCEL", false), "Outbound", "Hang Up"},
		{"number to ext", line("+15551234567", "1001", "default", "PJSIP/trunk-1", "PJSIP/1001-2", "CANCEL", false), "Inbound", "Missed"},
		{"trunk context", line("2000", "+15550001111", "from-pstn", "PJSIP/trunk-1", "PJSIP/1001-2", "ANSWERED", true), "Inbound", "Accepted"},
		{"phone by channel peer", line("+15550009999", "+15551234567", "from-internal", "PJSIP/1001-1", "PJSIP/trunk-2", "ANSWERED", true), "Outbound", "Accepted"},
		{"neither", line("+15550009999", "+15551234567", "default", "DAHDI/1-1", "", "UNKNOWN", false), "Outbound", "No Answer"},
		{"emergency", line("1001", "112", "from-internal", "PJSIP/1001-1", "PJSIP/trunk-2", "ANSWERED", true), "Outbound", "Accepted"},
		{"congestion", line("1001", "1002", "from-internal", "PJSIP/1001-1", "", "CONGESTION", false), "Internal", "Failed"},
		{"unknown answered", line("+15551234567", "1001", "", "PJSIP/t-1", "", "UNKNOWN", true), "Inbound", "Accepted"},
		{"unknown missed", line("+15551234567", "1001", "", "PJSIP/t-1", "", "UNKNOWN", false), "Inbound", "Missed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, errs := readAsterisk(t, tt.in, AsteriskOptions{})
			if recs[1] == nil {
				t.Fatal(errs)
			}
			if recs[1].Direction != tt.dir || recs[1].Result != tt.result {
				t.Errorf("got %s %s, want %s %s", recs[1].Direction, recs[1].Result, tt.dir, tt.result)
			}
		})
	}
}

func TestParseCallerID(t *testing.T) {
	tests := []struct{ in, name, num string }{
		{`"" <+14155550142>`, "", "+14155550142"},
		{`"Anonymous" <>`, "Anonymous", ""},
		{`"Robert \"Bobby\" Tables" <1003>`, `Robert "Bobby" Tables`, "1003"},
		{`"C:\\Users\\ops" <+1312>`, `C:\Users\ops`, "+1312"},
		{`"Müller, José" <+4930123456>`, "Müller, José", "+4930123456"},
		{`"a <b>" <1001>`, "a <b>", "1001"},
		{`Bob <1006>`, "Bob", "1006"},
		{`1005`, "", "1005"},
		{`+14155550142`, "", "+14155550142"},
		{`Reception`, "Reception", ""},
		{`"Unclosed <1001>`, "Unclosed <1001>", ""},
		{`"Name"`, "Name", ""},
		{``, "", ""},
	}
	for _, tt := range tests {
		name, num := parseCallerID(tt.in)
		if name != tt.name || num != tt.num {
			t.Errorf("parseCallerID(%s) = %q, %q; want %q, %q", tt.in, name, num, tt.name, tt.num)
		}
	}
}

func TestAsteriskTruncatedLineKeepsGoodLines(t *testing.T) {
	// Cut inside clid's quoted name: joined with the next lines the quotes
	// pair up differently, and whatever comes out must not cost the good
	// lines.
	for cut := 1; cut < len(ast16); cut++ {
		in := ast16[:cut] + "\n" + ast16 + "\n" + ast16 + "\n"
		recs, errs := readAsterisk(t, in, AsteriskOptions{})
		if recs[2] == nil || recs[3] == nil {
			t.Fatalf("cut at %d (%q): good lines lost; records at %v, errors %v", cut, ast16[:cut], keys(recs), errs)
		}
		// (A line cut right after the comma before amaflags is a valid
		// 16-column line with an empty amaflags; any other cut is bad.)
		if recs[1] != nil && cut != strings.LastIndex(ast16, ",")+1 {
			t.Fatalf("cut at %d: a record from a truncated line", cut)
		}
	}
}
