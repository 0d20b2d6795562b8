// Package motion decides cheaply, per frame, whether a camera's person
// detector must run: a Gate shrinks the frame to a small blurred gray
// picture (160 px wide by default), takes its absolute difference from a
// reference picture, and calls it motion when enough pixels changed
// (Config.Threshold, Config.MinArea). Without motion the detector still runs
// every Config.StillRefresh of stream time, so still people's tracks are
// refreshed and tracks of people who slipped away get frames to expire in.
// Frames the gate lets pass skip detection and tracking entirely.
//
// # The reference: the frame the detector last ran on
//
// Two usual references fail one of the two cases that matter in a shop:
//
//   - The previous checked frame misses slow walkers. A person's change
//     between two frames is only their leading and trailing edges, which is
//     small when they move slowly. Measured on vtest.avi (detector boxes and
//     ByteTrack tracks, changed pixels counted inside each person's box at
//     160x120, Threshold 25): at 5 analysed fps, a person walking 2-3 px
//     per source frame (about a third of a body height per second) changes
//     fewer pixels than MinArea on their own in 51% of frames, and one
//     walking 3-5 px/frame in 23%. The change never adds up, so a lone slow
//     walker can go unseen until the next refresh.
//   - A slowly updated background (running average) keeps a person who
//     stopped "in motion" until they fade into it, and the place they leave
//     as long again. The long-haired man who stands on the phone in
//     vtest.avi (frames 404-445) alone changed 67-97 pixels, about twice
//     MinArea, against a running average with alpha 0.05 per frame for over
//     2 s after stopping (over 4 s with 0.02) and again after leaving, so a
//     customer at a counter would keep the detector busy for seconds on
//     every stop.
//
// The Gate compares with the picture of the frame the detector last ran
// on. While people move every frame runs and this is the previous frame;
// once the gate skips, change accumulates against the last analysed frame,
// so slow movement triggers a run as soon as it adds up to MinArea instead
// of never. In the same measurement a lone walker at 2-3 px/frame triggers
// at 5 fps after a median 1 and at most 3 analysed frames (p90), at
// 3-5 px/frame after 1 (p90 2); the standing man stayed under MinArea in
// every 1 s refresh interval while he stood (at most 34 changed pixels
// against 39). A lighting change or a parked trolley costs one run, after which
// it is the reference.
package motion
