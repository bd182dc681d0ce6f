// What every backend shares of the Store contract: the rule by which a key
// joins or creates a project (Store::AddKeyToProject).

#include "store/store.h"

namespace webhooks {

Status ChooseProject(ProjectChoice choice, const std::string& name,
                     const std::vector<std::string>& matches, bool id_match,
                     std::string* project) {
  project->clear();
  if (matches.empty()) {
    if (choice == ProjectChoice::kJoin) {
      return Status::NotFound("no project is named '" + name +
                              "' (nor has that id)");
    }
    return Status::Ok();
  }
  if (choice == ProjectChoice::kCreate) {
    return Status::Conflict("a project named '" + name + "' exists");
  }
  if (!id_match && matches.size() > 1) {
    return Status::InvalidArgument(
        "several projects are named '" + name +
        "'; name the project by its id (proj_..., see keys list)");
  }
  *project = matches[0];
  return Status::Ok();
}

}  // namespace webhooks
