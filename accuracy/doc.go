// Package accuracy measures how well storesight sees people on labelled
// sequences: MOTChallenge files (ground truth, tracker results,
// seqinfo.ini), tracking metrics that reproduce TrackEval's
// MotChallenge2DBox + CLEAR + Identity numbers, detection precision/recall
// and AP50, and line-crossing counting accuracy.
//
// The tracking metrics are meant to be interchangeable with TrackEval's, so
// that a number produced here can be compared with published MOTChallenge
// results and checked by running TrackEval on the files this package
// writes. That is why the preprocessing, the per-frame matching (including
// its tie-breaking, see assign.go) and even TrackEval's quirks are followed
// rather than improved on.
package accuracy
