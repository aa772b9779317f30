// All engine ops with autograd, in one include.
#pragma once

#include "engine/autograd/tape.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/cast.h"
#include "engine/ops/channel.h"
#include "engine/ops/column_stats.h"
#include "engine/ops/conv.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/loss.h"
#include "engine/ops/matmul.h"
#include "engine/ops/normalize.h"
#include "engine/ops/pool.h"
#include "engine/ops/reduce.h"
