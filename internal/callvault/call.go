package callvault

import "time"

// Call directions.
const (
	DirectionInbound  = "Inbound"
	DirectionOutbound = "Outbound"
	DirectionInternal = "Internal"
)

// Call types.
const (
	CallVoice = "Voice"
	CallFax   = "Fax"
)

// Transports.
const (
	TransportPSTN = "PSTN"
	TransportVoIP = "VoIP"
)

// Call results (RingCentral's vocabulary, which the other faces map onto).
const (
	ResultAccepted  = "Accepted"
	ResultMissed    = "Missed"
	ResultVoicemail = "Voicemail"
	ResultBusy      = "Busy"
	ResultNoAnswer  = "No Answer"
	ResultRejected  = "Rejected"
	ResultHangUp    = "Hang Up"
	ResultFailed    = "Failed"
)

// CallResults lists the results callvault stores.
var CallResults = []string{ResultAccepted, ResultMissed, ResultVoicemail, ResultBusy, ResultNoAnswer, ResultRejected, ResultHangUp, ResultFailed}

// Party is one end of a call or leg.
type Party struct {
	PhoneNumber     string `json:"phoneNumber,omitempty"` // E.164 where known
	Name            string `json:"name,omitempty"`
	ExtensionID     string `json:"extensionId,omitempty"` // a user id of the tenant, when the party is one
	ExtensionNumber string `json:"extensionNumber,omitempty"`
}

// Leg is one leg of a call record.
type Leg struct {
	LegType    string    `json:"legType"` // e.g. "Accept", "FindMe", "Transfer"
	Master     bool      `json:"master"`
	Direction  string    `json:"direction"`
	Action     string    `json:"action,omitempty"`
	Result     string    `json:"result"`
	Transport  string    `json:"transport,omitempty"`
	From       Party     `json:"from"`
	To         Party     `json:"to"`
	Start      time.Time `json:"startTime"`
	DurationMs int64     `json:"durationMs"`
}

// CallRecord is a finished call: a call detail record with its legs. ID is
// supplied by the source (the PBX's unique id, or the client's) and makes
// ingest idempotent: a record whose ID exists in the tenant is not stored
// again.
type CallRecord struct {
	TenantID           string    `json:"tenantId"`
	ID                 string    `json:"id"`
	SiteID             string    `json:"siteId,omitempty"`
	SessionID          string    `json:"sessionId,omitempty"`
	TelephonySessionID string    `json:"telephonySessionId,omitempty"`
	Start              time.Time `json:"startTime"`
	Answer             time.Time `json:"answerTime,omitzero"`
	End                time.Time `json:"endTime,omitzero"`
	DurationMs         int64     `json:"durationMs"` // end - start
	TalkMs             int64     `json:"talkMs"`     // end - answer; 0 when not answered
	Direction          string    `json:"direction"`
	Type               string    `json:"type"`
	Action             string    `json:"action,omitempty"`
	Result             string    `json:"result"`
	Transport          string    `json:"transport,omitempty"`
	From               Party     `json:"from"`
	To                 Party     `json:"to"`
	// Extension is the extension number whose call log the record belongs
	// to (the callee's for inbound calls, the caller's otherwise); the
	// ownership gate compares it with the caller's extension.
	Extension    string   `json:"extension,omitempty"`
	Legs         []Leg    `json:"legs"`
	RecordingIDs []string `json:"recordingIds,omitempty"`
	LegalHold    bool     `json:"legalHold,omitempty"`
	// IngestSeq orders records by arrival within the tenant; listings pin
	// a snapshot to it so concurrent ingest does not shift pages.
	IngestSeq  int64     `json:"-"`
	IngestedAt time.Time `json:"ingestedAt"`
}

// Recording is the metadata of a call recording; the audio lives in the
// blob store under BlobKey (its SHA-256).
type Recording struct {
	TenantID    string    `json:"tenantId"`
	ID          string    `json:"id"`
	CallID      string    `json:"callId"`
	Type        string    `json:"type"`        // "Automatic" or "OnDemand"
	ContentType string    `json:"contentType"` // audio/wav or audio/mpeg; "" until uploaded
	DurationMs  int64     `json:"durationMs"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UploadedAt  time.Time `json:"uploadedAt,omitzero"`
}

// Call event types, in the order a call usually goes through them.
const (
	EventRinging          = "ringing"
	EventAnswered         = "answered"
	EventHeld             = "held"
	EventResumed          = "resumed"
	EventTransferred      = "transferred"
	EventRecordingStarted = "recording_started"
	EventRecordingStopped = "recording_stopped"
	EventEnded            = "ended"
)

// CallEventTypes lists the call event types.
var CallEventTypes = []string{EventRinging, EventAnswered, EventHeld, EventResumed, EventTransferred,
	EventRecordingStarted, EventRecordingStopped, EventEnded}

// CallEvent is one raw event of a live call. ID is supplied by the source and
// makes event ingest idempotent. Events of one call are ordered by Seq,
// assigned on arrival; Timestamp is when it happened at the source.
type CallEvent struct {
	TenantID  string    `json:"tenantId"`
	ID        string    `json:"id"`
	CallID    string    `json:"callId"` // the live call (session) the event belongs to
	Seq       int64     `json:"seq"`    // per-tenant arrival order
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	SiteID    string    `json:"siteId,omitempty"`
	Direction string    `json:"direction,omitempty"`
	From      Party     `json:"from,omitzero"`
	To        Party     `json:"to,omitzero"`
	Result    string    `json:"result,omitempty"` // for ended: the call's result
	// RecordingID names the recording a recording_started event begins.
	RecordingID string `json:"recordingId,omitempty"`
	// TransferTo is the new callee of a transferred event.
	TransferTo Party     `json:"transferTo,omitzero"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// ActiveCall is the live state of a call between its first event and its
// ended event.
type ActiveCall struct {
	TenantID   string    `json:"tenantId"`
	CallID     string    `json:"callId"`
	SiteID     string    `json:"siteId,omitempty"`
	Direction  string    `json:"direction"`
	State      string    `json:"state"` // ringing, answered, held
	From       Party     `json:"from"`
	To         Party     `json:"to"`
	Extension  string    `json:"extension,omitempty"`
	Recording  bool      `json:"recording"`
	StartedAt  time.Time `json:"startTime"`
	AnsweredAt time.Time `json:"answerTime,omitzero"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// CallCursor is a keyset position in a call listing ordered by (Start, ID)
// descending.
type CallCursor struct {
	Start time.Time
	ID    string
}

// CallFilter selects call records of one tenant. Zero fields do not filter.
// Results are ordered by Start descending, then ID descending.
type CallFilter struct {
	TenantID           string
	From, To           time.Time // Start in [From, To)
	Directions         []string
	Types              []string
	Results            []string
	SiteIDs            []string // records of these sites only
	Extension          string   // records owned by this extension number
	PhoneNumber        string   // From or To phone number equals it
	SessionID          string
	TelephonySessionID string
	HasRecording       *bool
	After              *CallCursor // start after this position
	MaxIngestSeq       int64       // if > 0, only records with IngestSeq <= it (a snapshot)
	Limit              int
}

// CallBucket is one group of an aggregate: the group key (a time bucket
// start and/or a site, extension or direction), with its counts.
type CallBucket struct {
	Bucket   time.Time `json:"bucket,omitzero"`
	Key      string    `json:"key,omitempty"`
	Calls    int64     `json:"calls"`
	Answered int64     `json:"answered"`
	Missed   int64     `json:"missed"`
	TalkMs   int64     `json:"talkMs"`
}

// CallAggregate asks for aggregates over a filter. HourBuckets groups by
// the UTC hour of Start (the caller folds hours into local days or weeks);
// GroupBy is "", "site", "extension" or "direction".
type CallAggregate struct {
	Filter      CallFilter
	HourBuckets bool
	GroupBy     string
}

// CheckCallBatch is the check every store's PutCalls makes before writing:
// EInvalid for a nil record or one without tenant, id or start time, naming
// the first such record and its field.
func CheckCallBatch(records []*CallRecord) error {
	for i, r := range records {
		switch {
		case r == nil:
			return Errorf(EInvalid, "call record %d is nil", i)
		case r.TenantID == "":
			return FieldError("tenantId", "call record %d has no tenant", i)
		case r.ID == "":
			return FieldError("id", "call record %d has no id", i)
		case r.Start.IsZero():
			return FieldError("startTime", "call record %q has no start time", r.ID)
		}
	}
	return nil
}

// MarkIngested gives the records that a PutCalls stored (stored[i]) their
// IngestSeq (seqs[i]) and IngestedAt, leaving the others unchanged.
func MarkIngested(records []*CallRecord, stored []bool, seqs []int64, at time.Time) {
	for i, r := range records {
		if stored[i] {
			r.IngestSeq, r.IngestedAt = seqs[i], at
		}
	}
}
