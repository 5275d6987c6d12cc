module gcsim/tests/gctracegen

go 1.27
