"""`make bench`: Duban's benchmark. Each measure runs the same work side by side in one run."""
