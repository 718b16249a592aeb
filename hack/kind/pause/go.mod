// The pod sandbox image's program for the offline kind node image.
module github.com/skillmesh/skillmesh/hack/kind/pause

go 1.26.0
