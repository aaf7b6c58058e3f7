#!/bin/sh
echo "the synthetic tree has no second console"
