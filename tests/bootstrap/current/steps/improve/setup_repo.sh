#!/bin/sh
mkdir -p /external/repo
