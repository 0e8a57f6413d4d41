#include "context.hpp"

#include <utility>

namespace tenancyctl {

tenancy::Client& Context::client() {
    if (!client_)
        client_.emplace(connect);
    return *client_;
}

CLI::App* add_action(CLI::App& parent, const std::string& name, const std::string& description,
                     Context& ctx, std::function<void(Context&)> action) {
    CLI::App* command = parent.add_subcommand(name, description);
    command->callback([&ctx, action = std::move(action)] { ctx.action = action; });
    return command;
}

}  // namespace tenancyctl
