// The client killed (SIGKILL) at every step of a move in turn: rolled back
// with --abort, and resumed with --resume, from each point, exactly one copy
// is authoritative and routing points at it.  The steps are the library's
// own list (tenancy/orchestration/crash_points.hpp); TENANCY_CRASH_AT makes
// tenancyctl kill itself when it reaches one.  The tenant is small: the
// 100,000-row move is in test_move.cpp.
#include <gtest/gtest.h>

#include <csignal>

#include "move_support.hpp"
#include "tenancy/orchestration/crash_points.hpp"

namespace tenancy {
namespace {

namespace orch = orchestration;
using test::db_name;
using test::describe;
using test::run_tenancyctl;
using test::RunResult;
using test::TestRegistry;

bool after_switch(std::string_view step) {
    bool seen = false;
    for (std::string_view s : orch::kMoveSteps) {
        if (s == "move.after_switch")
            seen = true;
        if (s == step)
            return seen;
    }
    return false;
}

bool during_cutover(std::string_view step) {
    return step == "move.after_freeze" || step == "move.after_catch_up" || step == "move.after_sequences" ||
           step == "move.after_verify";
}

std::vector<std::string> move_args(TenantId t, const std::string& to) {
    return {"tenant", "move", std::to_string(t), "--to", to, "--drop-source"};
}

std::vector<std::string> again(TenantId t, const char* how) { return {"tenant", "move", std::to_string(t), how}; }

TEST(MoveCrash, KilledAtEveryStepThenRolledBackOrResumed) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    const TenantId t = test::movable_tenant(reg, "s2", 20);
    // Every check writes one row through the Router where it is authoritative.
    std::int64_t written = 20;
    auto expect_authoritative = [&](const std::string& server, bool frozen) {
        written += frozen ? 0 : 1;
        return test::expect_authoritative(reg, t, server, frozen);
    };
    std::string here = "s2";
    for (std::string_view step : orch::kMoveSteps) {
        SCOPED_TRACE(std::string(step));
        // Killed, then rolled back; after the switch the target is
        // authoritative, a roll-back is refused and the move is finished.
        std::string there = here == "s2" ? "s3" : "s2";
        RunResult killed = run_tenancyctl(move_args(t, there), reg.env({{"TENANCY_CRASH_AT", std::string(step)}}));
        ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
        const bool switched = after_switch(step);
        expect_authoritative(switched ? there : here, during_cutover(step));
        const RunResult aborted = run_tenancyctl(again(t, "--abort"), reg.env());
        if (!switched) {
            ASSERT_EQ(aborted.exit_code, 0) << describe(aborted);
            EXPECT_EQ(expect_authoritative(here, false), 0) << "the roll-back dropped the target's copy";
            // Killed, then resumed, from the same point.
            there = here == "s2" ? "s3" : "s2";
            killed = run_tenancyctl(move_args(t, there), reg.env({{"TENANCY_CRASH_AT", std::string(step)}}));
            ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
            expect_authoritative(here, during_cutover(step));
        } else {
            EXPECT_EQ(aborted.exit_code, 1) << describe(aborted);
            EXPECT_NE(aborted.err.find("TN026"), std::string::npos) << describe(aborted);
            const bool source_gone = step == "move.after_drop_source" || step == "move.after_finish";
            EXPECT_EQ(expect_authoritative(there, false), source_gone ? 0 : 1)
                << "refused: the target stays authoritative";
        }
        const RunResult resumed = run_tenancyctl(again(t, "--resume"), reg.env());
        if (step == "move.after_finish") {
            EXPECT_EQ(resumed.exit_code, 1) << "the move was complete: " << describe(resumed);
            EXPECT_NE(resumed.err.find("TN026"), std::string::npos) << describe(resumed);
        } else {
            ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
        }
        here = there;
        EXPECT_EQ(expect_authoritative(here, false), 0) << "--drop-source: one copy left";
    }
    EXPECT_EQ(test::items_on(reg, t, here), written) << "every routed write is in the one copy, once";
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

TEST(MoveCrash, RollBackKilledAtEveryStepThenRunAgain) {
    TestRegistry reg;
    test::add_move_migrations(reg);
    const TenantId t = test::movable_tenant(reg, "s3", 20);
    for (std::string_view step : orch::kMoveAbortSteps) {
        SCOPED_TRACE(std::string(step));
        // Stopped during its cutover: the source is frozen.
        const RunResult stopped =
            run_tenancyctl(move_args(t, "s2"), reg.env({{"TENANCY_CRASH_AT", "move.after_freeze"}}));
        ASSERT_EQ(stopped.signal, SIGKILL) << describe(stopped);
        const RunResult killed = run_tenancyctl(again(t, "--abort"), reg.env({{"TENANCY_CRASH_AT", std::string(step)}}));
        ASSERT_EQ(killed.signal, SIGKILL) << describe(killed);
        test::expect_authoritative(reg, t, "s3", false);  // unfrozen by the roll-back's first step
        const RunResult finished = run_tenancyctl(again(t, "--abort"), reg.env());
        if (step == "move_abort.after_record") {
            EXPECT_EQ(finished.exit_code, 1) << "nothing left to roll back: " << describe(finished);
            EXPECT_NE(finished.err.find("TN026"), std::string::npos) << describe(finished);
        } else {
            ASSERT_EQ(finished.exit_code, 0) << describe(finished);
        }
        EXPECT_EQ(test::expect_authoritative(reg, t, "s3", false), 0);
        EXPECT_FALSE(reg.database_exists("s2", db_name(t)));
    }
    const RunResult check = run_tenancyctl({"check"}, reg.env());
    EXPECT_EQ(check.exit_code, 0) << describe(check);
}

}  // namespace
}  // namespace tenancy
