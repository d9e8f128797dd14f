# Reference outputs of the R package `surveillance` (1.20.3, Debian r-cran-surveillance) for the
# detector agreement tests 检测算法一致性参照. Run from this folder:
#   Rscript make_reference.R [path/to/shared/data/surveillance]
# Inputs are the CSV exports in shared/data/surveillance plus one simulated daily series
# (daily_sim.csv, written here with a fixed seed, because the package ships no daily data).
# sts objects are built from counts only (no dates), so Farrington's reference weeks are t - freq * i,
# the convention the Python implementation follows.
suppressMessages(library(surveillance))
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[1] else "../../../../../shared/data/surveillance"

read_wide <- function(name) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  units <- unique(d$unit)
  obs <- sapply(units, function(u) d$count[d$unit == u][order(d$t[d$unit == u])])
  list(name = name, units = units, observed = matrix(obs, ncol = length(units)), freq = d$freq[1])
}

set.seed(20261124)
n_days <- 4 * 365
tt <- seq_len(n_days)
lambda <- exp(1.2 + 0.4 * sin(2 * pi * tt / 365) + 0.15 * sin(2 * pi * tt / 7))
daily <- rpois(n_days, lambda)
daily[1390:1396] <- daily[1390:1396] + c(2, 4, 6, 9, 7, 5, 3)  # planted outbreak 暴发
write.csv(data.frame(t = tt, count = daily), "daily_sim.csv", row.names = FALSE)

series <- list(read_wide("salmNewport"), read_wide("salmonella.agona"), read_wide("shadar"), read_wide("ha.sts"),
               list(name = "daily_sim", units = "daily_sim", observed = matrix(daily, ncol = 1), freq = 365))

ears <- list(
  C1 = list(method = "C1"),
  C2 = list(method = "C2"),
  C3 = list(method = "C3"),
  C1_b12 = list(method = "C1", baseline = 12, alpha = 0.01, minSigma = 0.5),
  C2_b12 = list(method = "C2", baseline = 12, alpha = 0.01, minSigma = 0.5),
  C3_b12 = list(method = "C3", baseline = 12, alpha = 0.05, minSigma = 0.5)
)
farr_weekly <- list(
  farrington = list(noPeriods = 1, b = 4, w = 3, weightsThreshold = 1, pastWeeksNotIncluded = 3,
                    pThresholdTrend = 0.05, alpha = 0.1, thresholdMethod = "delta", limit54 = c(0, 4)),
  farrington_default = list(),
  noufaily = list(noPeriods = 10, b = 4, w = 3, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
                  pThresholdTrend = 1, alpha = 0.05, populationOffset = FALSE, thresholdMethod = "nbPlugin",
                  limit54 = c(0, 4)),
  noufaily_muan = list(noPeriods = 10, b = 4, w = 3, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
                       pThresholdTrend = 1, alpha = 0.05, populationOffset = FALSE, thresholdMethod = "muan")
)
farr_daily <- list(
  farrington = list(noPeriods = 1, b = 3, w = 3, weightsThreshold = 1, pastWeeksNotIncluded = 3,
                    pThresholdTrend = 0.05, alpha = 0.1, thresholdMethod = "delta", limit54 = c(0, 4)),
  noufaily = list(noPeriods = 10, b = 3, w = 3, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
                  pThresholdTrend = 1, alpha = 0.05, thresholdMethod = "nbPlugin", limit54 = c(0, 4))
)

# Long format, one row per series, settings and time point; 12 significant digits keep the files small
# while staying far inside the 1e-6 relative tolerance of the tests.
collect <- function(s, res, settings) {
  t_index <- seq_len(nrow(s$observed))
  rows <- lapply(seq_len(ncol(res)), function(j) {
    data.frame(dataset = s$name, unit = s$units[j], settings = settings,
               t = tail(t_index, nrow(res)), upperbound = signif(upperbound(res)[, j], 12),
               alarm = as.integer(alarms(res)[, j]))
  })
  do.call(rbind, rows)
}

ears_out <- list()
farr_out <- list()
for (s in series) {
  x <- sts(observed = s$observed, frequency = s$freq)
  # EARS on the first four Newport states only: the file stays small and 4 x 528 weeks is plenty.
  xe <- if (ncol(x) > 12) x[, 1:4] else x
  for (nm in names(ears)) {
    ears_out[[length(ears_out) + 1]] <- collect(s, earsC(xe, control = ears[[nm]]), nm)
  }
  cfgs <- if (s$freq == 365) farr_daily else farr_weekly
  for (nm in names(cfgs)) {
    ctl <- cfgs[[nm]]
    n <- nrow(s$observed)
    # The last 60 time points keep the reference small; every model in them is fitted.
    b <- if (is.null(ctl$b)) 5 else ctl$b
    w <- if (is.null(ctl$w)) 3 else ctl$w
    ctl$range <- max(n - 59, s$freq * b + w + 1):n
    ctl$glmWarnings <- FALSE
    farr_out[[length(farr_out) + 1]] <- collect(s, farringtonFlexible(x, control = ctl), nm)
  }
}
write.csv(do.call(rbind, ears_out), "ears_reference.csv", row.names = FALSE, na = "NA", quote = FALSE)
write.csv(do.call(rbind, farr_out), "farrington_reference.csv", row.names = FALSE, na = "NA", quote = FALSE)
