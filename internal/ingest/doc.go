// Package ingest turns call data from the outside into callvault's call
// records and live-call state. It is pure: no database, no HTTP, no clock
// of its own (times that matter are passed in), no global mutable state.
// The store and the HTTP endpoints are built on top of it.
//
// # Sources
//
//   - The native wire format: the JSON shape of callvault.CallRecord,
//     one object (DecodeRecord), NDJSON (NewNDJSONReader), or a JSON
//     array, NDJSON or one (possibly pretty-printed) object, streamed item
//     by item (ForEachRecord) or all or nothing (DecodeBatch). Clients may not send tenantId, talkMs,
//     recordingIds, legalHold or ingestedAt: callvault sets them.
//   - Asterisk cdr_csv files (Master.csv): NewAsteriskReader.
//   - FreeSWITCH mod_json_cdr documents: ParseFreeSWITCH, the HTTP bodies
//     the module posts (DecodeFreeSWITCHHTTP), and import files or
//     directories (NewFreeSWITCHReader, WalkFreeSWITCH).
//   - Live call events: DecodeEvent(s), ValidateEvent, Apply and Replay.
//
// Every record any of them returns has passed Validate, which also
// completes it (derived durations, talk time, owning extension, a master
// leg). Errors are *callvault.Error values (or FieldErrors, a list of
// them) with code EInvalid and Field naming the culprit by path
// ("from.phoneNumber", "legs[2].durationMs"; for the PBX formats the
// column or variable, e.g. "answer", "variables.start_uepoch"). The
// readers are streams with bounded memory: each Next returns one record (or
// document) with the 1-based line it starts on; a bad line is an error
// whose message starts with "line N: ", and the next call goes on with the
// next line. They end with io.EOF.
//
// # Identity and idempotency
//
// A record's id comes from its source so that sending or importing the
// same data again stores nothing new (the store skips ids it has): the
// client's id; Asterisk's uniqueid, with the CDR sequence (newcdrcolumns)
// or a hash of dstchannel to tell the several CDRs of one forked dial apart,
// or, without a uniqueid, a hash of the line; FreeSWITCH's channel uuid;
// the live call id for a call built from events.
//
// # Sites and extensions
//
// ingest does not know a tenant's sites or users. A record's siteId is the
// client's, or for the PBX formats whatever the caller says the file or
// endpoint belongs to (AsteriskOptions.SiteID; set it on the FreeSWITCH
// record after parsing). Extension numbers are taken as the PBX wrote them
// and extensionId is left empty; whether a site or an extension exists in
// the tenant, and which user an extension number is, is for the layer that
// has the store to check or resolve.
//
// # Direction
//
// PBX CDRs do not say whether a call was inbound, outbound or internal
// from the tenant's point of view, so it is inferred. A number of 2 to 6
// digits (not an emergency number) is an extension; anything longer, or
// with a '+', is an outside number. Asterisk: a dcontext naming a trunk
// context (from-trunk, from-pstn, from-did, ...) is Inbound; else a call
// from an extension (src, or the SIP/PJSIP/IAX2 peer of channel) to an
// extension is Internal, from an extension to anything else Outbound, from
// anything else to an extension Inbound, and anything left Outbound.
// FreeSWITCH: variables.call_direction when present, the "public" context
// for Inbound, then the same rules by numbers, then the channel direction
// (see ParseFreeSWITCH). Results that depend on direction (an unanswered
// call is Missed when inbound, No Answer otherwise) follow from it.
//
// # FreeSWITCH B-legs
//
// A bridged FreeSWITCH call produces two CDRs: the A-leg (the caller's
// channel) and a B-leg (the channel FreeSWITCH originated to the callee).
// callvault stores one record per call, from the A-leg, whose legs include
// the bridged callee (the A-leg carries the callee's caller profile and
// bridged_time). ParseFreeSWITCH returns ErrBLeg for B-legs; the HTTP
// endpoint acknowledges them (2xx) and stores nothing, importers skip them.
// Storing B-legs as records of their own would count every bridged call
// twice, and the store does not merge records. What is lost: the ring
// time of callees that did not answer (their B-legs end LOSE_RACE or
// ORIGINATOR_CANCEL).
//
// # Live calls and events
//
// A live call is driven by its events: ringing creates it, answered, held,
// resumed, transferred and recording_started/stopped change it, ended
// finishes it into a call record. ActiveCall holds the state shown to
// clients; it cannot hold the legs a transfer adds or the recording ids,
// so the full history lives in the call's stored events, and the store
// keeps nothing else. The HTTP layer handles an event like this, in one
// transaction:
//
//	ev, err := ingest.DecodeEvent(body) // then set TenantID and ReceivedAt
//	events, err := calls.CallEventsOf(ctx, tenant, ev.CallID) // Seq order
//	active, final, err := ingest.Replay(append(events, ev), now)
//	// on err: reject the event, store nothing
//	tx.PutCallEvents(ev) // a repeated id is skipped, and Replay ignored it too
//	if final != nil { tx.PutCalls(final); tx.DeleteActiveCall(tenant, ev.CallID) }
//	else { tx.PutActiveCall(active) }
//
// Replaying a call's few events per event costs little and keeps one
// source of truth; Apply is the same step for a caller that holds only an
// ActiveCall, and on ended its record lacks transfer legs and recording
// ids. ActiveCall.UpdatedAt is the timestamp of the call's last event (at
// the source), which is what the out-of-order check compares with.
package ingest
