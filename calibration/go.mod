module gcsim.dev/calibration

go 1.27
